"""The Python binding (and through it libcovgate): every sample scenario decides as `covgate
replay --decisions`; later answers, at-least-once delivery across a restart, the wait fd,
errors, threads. Run: COVGATE=build/covgate /usr/bin/python3 -m unittest discover plugins/python/tests
"""

import json
import os
import pathlib
import selectors
import subprocess
import sys
import tempfile
import threading
import unittest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(HERE.parent))

import covgate  # noqa: E402

SCENARIOS = ROOT / "samples" / "inputs" / "scenarios"
SCENARIOS_HL7V2 = ROOT / "samples" / "inputs" / "scenarios-hl7v2"
COVGATE = os.environ.get("COVGATE", str(ROOT / "build" / "covgate"))


def files_of(folder: pathlib.Path):
    return sorted(p for p in folder.rglob("*") if p.is_file())


def without_source(lines):
    out = []
    for d in lines:
        d = dict(d)
        d.pop("source", None)
        out.append(d)
    return out


def replay_decisions(folder: pathlib.Path):
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "decisions"
        subprocess.run([COVGATE, "replay", "--decisions", str(out), "--out", os.devnull, str(folder)],
                       stderr=subprocess.DEVNULL, check=False)
        return [json.loads(line) for line in out.read_text().splitlines() if line]


class Scenarios(unittest.TestCase):
    def check_folder(self, folder: pathlib.Path, config=None):
        expected = without_source(replay_decisions(folder))
        got = []
        with covgate.Gate(config) as gate:
            for f in files_of(folder):
                got.extend(gate.submit(f.read_bytes()).decisions)
        self.assertEqual(without_source(got), expected, folder.name)
        return len(expected)

    def test_every_scenario_decides_as_replay(self):
        folders = sorted(p for p in SCENARIOS.iterdir() if p.is_dir())
        self.assertGreaterEqual(len(folders), 40)
        total = 0
        for folder in folders:
            with self.subTest(folder.name):
                total += self.check_folder(folder)
        self.assertGreater(total, 40)

    def test_every_hl7v2_scenario_decides_as_replay(self):
        config = {"hl7v2": {"processing_ids": ["P", "T", "D"]}}  # replay reads them all
        for folder in sorted(p for p in SCENARIOS_HL7V2.iterdir() if p.is_dir()):
            with self.subTest(folder.name):
                self.check_folder(folder, config)


class LaterAnswers(unittest.TestCase):
    folder = SCENARIOS / "02-csii-release-after-late-lab"

    def test_a_late_lab_releases_the_held_claim_through_poll(self):
        record, claim, labs = files_of(self.folder)
        with covgate.Gate() as gate:
            self.assertEqual(gate.submit(record.read_bytes()).disposition, "accepted")
            held = gate.submit(claim.read_bytes())
            self.assertEqual(held.disposition, "hold")
            self.assertEqual(held.content_type, "application/edi-x12")
            self.assertTrue(held.body.startswith(b"ISA*"))
            self.assertEqual([d["event"] for d in held.decisions], ["hold"])
            self.assertEqual(held.decisions[0]["claim_id"], "CSII-LATE")
            self.assertEqual(gate.poll(), [])
            answer = gate.submit(labs.read_bytes(), "application/fhir+json")
            self.assertEqual(answer.content_type, "application/fhir+json")
            self.assertEqual([d["event"] for d in answer.decisions], ["release"])
            sel = selectors.DefaultSelector()
            sel.register(gate, selectors.EVENT_READ)
            self.assertEqual(len(sel.select(timeout=0)), 1)
            later = gate.poll()
            self.assertEqual(len(later), 1)
            self.assertEqual(later[0].key, "1999999984_CSII-LATE-2")
            self.assertEqual(later[0].disposition, "release")
            self.assertIn(b"REF*1K*CSII-LATE-2~", later[0].body)
            self.assertEqual(later[0].decisions[0]["outcome"], "release")
            self.assertEqual(len(sel.select(timeout=0)), 0)
            self.assertEqual(gate.poll(), [])  # acknowledged by this second poll
            gate.redeliver()
            self.assertEqual(gate.poll(), [])  # ... so nothing comes back

    def test_health_counts_the_later_answers_waiting_for_ack(self):
        record, claim, labs = files_of(self.folder)
        with covgate.Gate() as gate:
            health = gate.health()
            self.assertEqual(health.state, "healthy")
            self.assertEqual((health.durable, health.cluster, health.connected), (False, False, False))
            self.assertEqual((health.troubles, health.last_trouble, health.last_trouble_unix_ms), (0, "", 0))
            for f in (record, claim, labs):
                gate.submit(f.read_bytes())
            self.assertEqual(gate.health().later_waiting, 1)
            later = gate.poll()
            self.assertEqual(gate.health().later_waiting, 1)  # handed out, not acknowledged
            gate.ack(later)
            self.assertEqual(gate.health().later_waiting, 0)
        with tempfile.TemporaryDirectory() as d, covgate.Gate({"store": {"directory": d}}) as gate:
            self.assertTrue(gate.health().durable)

    def test_unacknowledged_later_answers_come_back_after_a_restart(self):
        with tempfile.TemporaryDirectory() as tmp:
            config = {"store": {"directory": tmp}}
            with covgate.Gate(config) as gate:
                for f in files_of(self.folder):
                    gate.submit(f.read_bytes())
                first = gate.poll()
                self.assertEqual([a.key for a in first], ["1999999984_CSII-LATE-2"])
                # closed before the next poll(): never acknowledged
            with covgate.Gate(config) as gate:
                again = gate.poll()
                self.assertEqual([a.key for a in again], ["1999999984_CSII-LATE-2"])
                self.assertEqual(again[0].body, first[0].body)
                self.assertEqual(again[0].sequence, first[0].sequence)
                gate.ack(again)
            with covgate.Gate(config) as gate:
                self.assertEqual(gate.poll(), [])
                # The state survived too: the claim's interchange sent again gets its first
                # answer (the 277 pended), not processed again.
                repeat = gate.submit(files_of(self.folder)[1].read_bytes())
                self.assertEqual(repeat.disposition, "accepted")
                self.assertEqual(repeat.flags, 0x4)  # COVGATE_REPEATED
                self.assertIn(b"STC*P3:300", repeat.body)
                self.assertEqual(repeat.decisions, [])
            self.assertTrue((pathlib.Path(tmp) / "covgate.db").exists())

    def test_relative_store_directory_resolves_against_base_dir(self):
        with tempfile.TemporaryDirectory() as tmp:
            with covgate.Gate({"store": {"directory": "state"}}, base_dir=tmp) as gate:
                gate.submit(files_of(self.folder)[0].read_bytes())
            self.assertTrue((pathlib.Path(tmp) / "state" / "covgate.db").exists())


class Errors(unittest.TestCase):
    def test_a_bad_configuration_raises_naming_the_setting(self):
        with self.assertRaises(covgate.CovgateError) as caught:
            covgate.Gate({"x12": {"max_elements": "many"}})
        self.assertEqual(caught.exception.code, -2)
        self.assertEqual(caught.exception.name, "COVGATE_E_CONFIG")
        self.assertIn("/x12/max_elements", str(caught.exception))

    def test_bad_input_gets_an_answer_not_an_exception(self):
        with covgate.Gate() as gate:
            notes = gate.submit(b"hello, this is not a claim")
            self.assertEqual(notes.disposition, "rejected")
            self.assertEqual(notes.body, b"")
            self.assertTrue(notes.findings)
            broken = gate.submit(b"ISA*00*garbage~")
            self.assertEqual(broken.disposition, "rejected")
            self.assertIn(b"TA1", broken.body)
            wrong = gate.submit(b"MSH|^~\\&|A|B\r", "application/edi-x12")
            self.assertEqual(wrong.disposition, "rejected")
            with self.assertRaises(TypeError):
                gate.submit("text is not bytes")

    def test_a_closed_gate_refuses_calls(self):
        gate = covgate.Gate()
        gate.close()
        gate.close()  # idempotent
        with self.assertRaises(covgate.CovgateError):
            gate.submit(b"ISA")

    def test_version(self):
        self.assertRegex(covgate.Gate.version(), r"^\d+\.\d+\.\d+$")


class Threads(unittest.TestCase):
    def test_threads_submit_and_poll_at_once(self):
        folder = SCENARIOS / "02-csii-release-after-late-lab"
        record, claim, labs = (f.read_bytes() for f in files_of(folder))
        errors = []
        with covgate.Gate() as gate:
            gate.submit(record)

            def client(n):
                try:
                    own = claim.replace(b"000000502", b"%09d" % (1000 + n)).replace(b"CSII-LATE", b"T-%d" % n)
                    if gate.submit(own).disposition != "hold":
                        errors.append(n)
                except Exception as e:  # noqa: BLE001
                    errors.append(e)

            workers = [threading.Thread(target=client, args=(n,)) for n in range(16)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            self.assertEqual(errors, [])
            gate.submit(labs)
            later = gate.poll()
            self.assertEqual(sorted(a.key for a in later), sorted(f"1999999984_T-{n}-2" for n in range(16)))


if __name__ == "__main__":
    unittest.main()

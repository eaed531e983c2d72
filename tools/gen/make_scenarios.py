#!/usr/bin/env python3
"""Writes samples/inputs/scenarios: one small replay scenario per reason code (docs/policy.md §5) that
an 837 can reach, and one per covered indication, each with its own patient. Run it from the
repository root after changing a scenario, then refresh the golden files with
`UPDATE=1 COVGATE=build/covgate bash tests/golden/run.sh $PWD/samples`.

It also writes samples/inputs/scenarios-hl7v2: the same scenarios with their clinical records as
HL7 v2 instead of FHIR (ADT^A03 for a finished visit, ORU^R01 for lab results and evidence codes,
PID-3 carrying the MBI with identifier type MC), beside the same 837 files. The unit test
src/hl7v2/scenarios_test.cpp reads both forms and asserts they give the same facts."""
import json
import os
import shutil

ROOT = "samples/inputs/scenarios"
MBI = "http://hl7.org/fhir/sid/us-mbi"


def x12(isa13, member, claim_id, lines, pos="12", dx=("E1065",), prior_auth="PA1001",
        payer="16013", member_present=True, frequency="1", institutional=False):
    """An 837P, or with `institutional` an 837I (home health bill type 32x, statement period
    2026-03-01 to 2026-04-01, revenue code 0274 on every line)."""
    guide = "005010X223A2" if institutional else "005010X222A1"
    body = ["BHT*0019*00*B%s*20260410*1200*CH" % isa13[-3:],
            "NM1*41*2*HOMECARE SUPPLY*****46*S1", "PER*IC*DESK*TE*5555550100",
            "NM1*40*2*DME MAC*****46*R1", "HL*1**20*1", "PRV*BI*PXC*332B00000X",
            "NM1*85*2*HOMECARE SUPPLY*****XX*1999999984", "N3*100 MAIN ST",
            "N4*COLUMBUS*OH*43004", "REF*EI*311234567", "HL*2*1*22*0", "SBR*P*18*******MB",
            "NM1*IL*1*DOE*JANE****MI*%s" % member if member_present else "NM1*IL*1*DOE*JANE",
            "DMG*D8*19500102*F", "NM1*PR*2*MEDICARE*****PI*%s" % payer]
    total = sum(float(l[2]) for l in lines)
    if institutional:
        body.append("CLM*%s*%.2f***32:A:%s**A*Y*Y" % (claim_id, total, frequency))
        body += ["DTP*434*RD8*20260301-20260401", "CL1*1*1*01"]
    else:
        body.append("CLM*%s*%.2f***%s:B:%s*Y*A*Y*Y" % (claim_id, total, pos, frequency))
    if prior_auth:
        body.append("REF*G1*%s" % prior_auth)
    if institutional:  # the principal diagnosis has an HI of its own
        body.append("HI*ABK:" + dx[0])
        if len(dx) > 1:
            body.append("HI*" + "*".join("ABF:" + d for d in dx[1:]))
        body += ["NM1*71*1*WELBY*MARCUS****XX*1234567893", "PRV*AT*PXC*207R00000X"]
    else:
        body.append("HI*" + "*".join(("ABK:" if i == 0 else "ABF:") + d for i, d in enumerate(dx)))
    for n, line in enumerate(lines, 1):
        code, mods, charge = line[:3]
        procedure = "HC:%s%s" % (code, "".join(":" + m for m in mods))
        if institutional:
            body += ["LX*%d" % n, "SV2*0274*%s*%s*UN*1" % (procedure, charge)]
        else:
            body += ["LX*%d" % n, "SV1*%s*%s*UN*1***1" % (procedure, charge)]
        if len(line) < 4 or line[3]:
            body.append("DTP*472*D8*20260401")
        body.append("REF*6R*%sL%d" % (claim_id, n))
    out = "ISA*00*          *00*          *ZZ*HOMECARESUPPLY *ZZ*DMEMAC01       *260410*1200*^*00501*%s*0*P*:~\n" % isa13
    out += "GS*HC*HOMECARESUPPLY*DMEMAC01*20260410*1200*%d*X*%s~\n" % (int(isa13), guide)
    out += "ST*837*0001*%s~\n" % guide + "".join(s + "~\n" for s in body)
    out += "SE*%d*0001~\nGE*1*%d~\nIEA*1*%s~\n" % (len(body) + 2, int(isa13), isa13)
    return out


def subject(member):
    return {"identifier": {"system": MBI, "value": member}}


def lab(id_, member, loinc, value, unit, when, low=None):
    r = {"resourceType": "Observation", "id": id_, "status": "final",
         "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
         "subject": subject(member), "effectiveDateTime": when,
         "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}}
    if low is not None:
        r["referenceRange"] = [{"low": {"value": low, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}}]
    return r


def evidence(id_, member, code, value, when="2026-01-10"):
    r = {"resourceType": "Observation", "id": id_, "status": "final",
         "code": {"coding": [{"system": "urn:covgate:evidence", "code": code}]},
         "subject": subject(member), "effectiveDateTime": when}
    if isinstance(value, bool):
        r["valueBoolean"] = value
    else:
        r["valueQuantity"] = {"value": value}
    return r


def bundle(member, visit="MD", criteria=True, cpep=True, extra=()):
    """A collection Bundle with the patient's record: visit, criterion A, insulinopenia."""
    entries = [{"fullUrl": "urn:uuid:pt-" + member,
                "resource": {"resourceType": "Patient", "identifier": [{"system": MBI, "value": member}],
                             "gender": "female", "birthDate": "1950-01-02"}}]
    if visit:
        entries.append({"fullUrl": "urn:uuid:dr-" + member,
                        "resource": {"resourceType": "Practitioner", "qualification": [{"code": {"coding": [
                            {"system": "http://terminology.hl7.org/CodeSystem/v2-0360", "code": visit}]}}]}})
        entries.append({"resource": {"resourceType": "Encounter", "id": "visit-" + member, "status": "finished",
                                     "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                                     "subject": {"reference": "urn:uuid:pt-" + member},
                                     "participant": [{"individual": {"reference": "urn:uuid:dr-" + member}}],
                                     "period": {"start": "2026-03-15T10:00:00-05:00"}}})
    if criteria:
        entries += [{"resource": evidence("edu-" + member, member, "diabetes-education-completed", True)},
                    {"resource": evidence("mdi-" + member, member, "mdi-injections-per-day", 4)},
                    {"resource": evidence("mdim-" + member, member, "mdi-duration-months", 12)},
                    {"resource": evidence("smbg-" + member, member, "smbg-per-day", 4)},
                    {"resource": lab("a1c-" + member, member, "4548-4", 8.2, "%", "2026-02-20")}]
    if cpep:
        entries += [{"resource": lab("cpep-" + member, member, "13037-7", 0.5, "ng/mL", "2026-03-01T08:00:00Z", low=0.8)},
                    {"resource": lab("glu-" + member, member, "1558-6", 110, "mg/dL", "2026-03-01T07:50:00Z")}]
    entries += [{"resource": r} for r in extra]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


PUMP = [("E0784", ("KX", "NU"), "4821.55")]
scenarios = []


def scenario(name, claim, facts=None, later=None, more_claims=()):
    scenarios.append((name, claim, facts, later, more_claims))


n = 0


def member():
    global n
    n += 1
    return "%dAA%dAA%dAA%02d" % (n % 10, n % 10, n % 10, n)


def isa():
    return "%09d" % (500 + n)


# CSII: covered, then each reason.
m = member(); scenario("csii-released", x12(isa(), m, "CSII-OK", PUMP), bundle(m))
m = member(); scenario("csii-release-after-late-lab", x12(isa(), m, "CSII-LATE", PUMP), bundle(m, cpep=False),
                       {"resourceType": "Bundle", "type": "batch", "entry": [
                           {"resource": lab("cpep-" + m, m, "42180-0", 0.2, "nmol/L", "2026-03-01T08:00:00Z", low=0.26), "request": {"method": "POST", "url": "Observation"}},
                           {"resource": lab("glu-" + m, m, "1558-6", 6.1, "mmol/L", "2026-03-01T07:50:00Z"), "request": {"method": "POST", "url": "Observation"}}]})
m = member(); scenario("modifier-missing", x12(isa(), m, "NOKX", [("E0784", ("NU",), "4821.55")]), bundle(m))
m = member(); scenario("modifier-expected-denial", x12(isa(), m, "GA", [("E0784", ("GA",), "4821.55")]))
# The 837P guide requires the member id (2010BA NM109) and the line's date of service, so an
# 837P without them ends at the 999; the 837I guide leaves NM109 situational, and so the policy
# sees a claim without a member id there. (The date of service has no such path: 837I
# requires the statement period.)
m = member(); scenario("claim-member-id-missing", x12(isa(), m, "NOID", PUMP, member_present=False, institutional=True), bundle(m))
m = member(); scenario("claim-service-date-missing", x12(isa(), m, "NODATE", [("E0784", ("KX", "NU"), "4821.55", False)]), bundle(m))
m = member(); scenario("csii-setting-not-home", x12(isa(), m, "SNF", PUMP, pos="31"), bundle(m))
m = member(); scenario("csii-setting-unknown", x12(isa(), m, "OFFICE", PUMP, pos="11"), bundle(m))
m = member(); scenario("csii-insulinopenia-missing", x12(isa(), m, "NOCPEP", PUMP), bundle(m, cpep=False))
m = member(); scenario("csii-c-peptide-not-fasting", x12(isa(), m, "NF", PUMP), bundle(m, cpep=False, extra=[
    lab("cpep-" + m, m, "1986-9", 0.5, "ng/mL", "2026-03-01T08:00:00Z", low=0.8)]))
m = member(); scenario("csii-c-peptide-no-reference-range", x12(isa(), m, "NORANGE", PUMP), bundle(m, cpep=False, extra=[
    lab("cpep-" + m, m, "13037-7", 0.5, "ng/mL", "2026-03-01T08:00:00Z"),
    lab("glu-" + m, m, "1558-6", 110, "mg/dL", "2026-03-01T07:50:00Z")]))
m = member(); scenario("csii-c-peptide-glucose-missing", x12(isa(), m, "NOGLU", PUMP), bundle(m, cpep=False, extra=[
    lab("cpep-" + m, m, "13037-7", 0.5, "ng/mL", "2026-03-01T08:00:00Z", low=0.8)]))
m = member(); scenario("csii-c-peptide-glucose-too-high", x12(isa(), m, "HIGLU", PUMP), bundle(m, cpep=False, extra=[
    lab("cpep-" + m, m, "13037-7", 0.5, "ng/mL", "2026-03-01T08:00:00Z", low=0.8),
    lab("glu-" + m, m, "1558-6", 226, "mg/dL", "2026-03-01T07:50:00Z")]))
m = member(); scenario("csii-c-peptide-above-threshold", x12(isa(), m, "HICPEP", PUMP), bundle(m, cpep=False, extra=[
    lab("cpep-" + m, m, "13037-7", 1.7, "ng/mL", "2026-03-01T08:00:00Z", low=0.8),
    lab("glu-" + m, m, "1558-6", 110, "mg/dL", "2026-03-01T07:50:00Z")]))
m = member(); scenario("csii-c-peptide-renal-unproven", x12(isa(), m, "RENAL", PUMP), bundle(m, cpep=False, extra=[
    lab("cpep-" + m, m, "13037-7", 1.2, "ng/mL", "2026-03-01T08:00:00Z", low=0.8),
    lab("glu-" + m, m, "1558-6", 110, "mg/dL", "2026-03-01T07:50:00Z")]))
m = member(); scenario("csii-c-peptide-renal-released", x12(isa(), m, "RENAL-OK", PUMP), bundle(m, cpep=False, extra=[
    lab("cpep-" + m, m, "13037-7", 1.2, "ng/mL", "2026-03-01T08:00:00Z", low=0.8),
    lab("glu-" + m, m, "1558-6", 110, "mg/dL", "2026-03-01T07:50:00Z"),
    lab("crcl-" + m, m, "2164-2", 45, "mL/min", "2026-02-01")]))
m = member(); scenario("csii-c-peptide-egfr-only", x12(isa(), m, "EGFR", PUMP), bundle(m, cpep=False, extra=[
    lab("cpep-" + m, m, "13037-7", 1.2, "ng/mL", "2026-03-01T08:00:00Z", low=0.8),
    lab("glu-" + m, m, "1558-6", 110, "mg/dL", "2026-03-01T07:50:00Z"),
    lab("egfr-" + m, m, "98979-8", 40, "mL/min/{1.73_m2}", "2026-02-01")]))
m = member(); scenario("lab-unit-unknown", x12(isa(), m, "UNIT", PUMP), bundle(m, cpep=False, extra=[
    lab("cpep-" + m, m, "13037-7", 0.5, "mg/dL", "2026-03-01T08:00:00Z", low=0.8)]))
m = member(); scenario("csii-criteria-missing", x12(isa(), m, "NOCRIT", PUMP), bundle(m, criteria=False))
m = member(); scenario("csii-criterion-b-smbg", x12(isa(), m, "CRITB", PUMP), bundle(m, criteria=False, extra=[
    evidence("pre-" + m, m, "pump-before-medicare", True)]))
m = member(); scenario("csii-criterion-b-released", x12(isa(), m, "CRITB-OK", PUMP), bundle(m, criteria=False, extra=[
    evidence("pre-" + m, m, "pump-before-medicare", True),
    evidence("preb-" + m, m, "smbg-per-day-before-enrollment", 4)]))
m = member(); scenario("csii-followup-not-physician", x12(isa(), m, "NP", PUMP), bundle(m, visit="NP"))
m = member(); scenario("csii-prior-auth-missing", x12(isa(), m, "NOPA", PUMP, prior_auth=None), bundle(m))
m = member(); scenario("rereview-overdue", x12(isa(), m, "STALE", [("E0781", ("KX",), "310.00"), ("J0895", (), "55.20")], dx=("E8311",)))
# External pumps.
m = member(); scenario("external-iron-released", x12(isa(), m, "IRON", [("E0781", ("KX",), "310.00"), ("J0895", (), "55.20")], dx=("E8311",)), bundle(m, criteria=False, cpep=False))
m = member(); scenario("external-heparin-institution-released", x12(isa(), m, "HEP-INST", [("E0781", ("KX",), "310.00"), ("J1644", (), "14.75")], dx=("I2699",), pos="21"), bundle(m, criteria=False, cpep=False))
m = member(); scenario("external-heparin-home", x12(isa(), m, "HEP-HOME", [("E0781", ("KX",), "310.00"), ("J1644", (), "14.75")], dx=("I2699",)), bundle(m, criteria=False, cpep=False))
m = member(); scenario("external-heparin-setting-unclear", x12(isa(), m, "HEP-OUT", [("E0781", ("KX",), "310.00"), ("J1644", (), "14.75")], dx=("I2699",), pos="22"), bundle(m, criteria=False, cpep=False))
m = member(); scenario("external-chemo-resectability-missing", x12(isa(), m, "CHEMO", [("E0781", ("KX",), "310.00"), ("J9190", (), "12.30")], dx=("C220",)), bundle(m, criteria=False, cpep=False))
m = member(); scenario("external-chemo-released", x12(isa(), m, "CHEMO-OK", [("E0781", ("KX",), "310.00"), ("J9190", (), "12.30")], dx=("C220",)), bundle(m, criteria=False, cpep=False, extra=[
    evidence("unres-" + m, m, "tumor-unresectable", True)]))
m = member(); scenario("external-chemo-diagnosis-unlisted", x12(isa(), m, "CHEMO-DX", [("E0781", ("KX",), "310.00"), ("J9190", (), "12.30")], dx=("C509",)), bundle(m, criteria=False, cpep=False))
m = member(); scenario("external-morphine-cancer-pain-missing", x12(isa(), m, "MORPH", [("E0781", ("KX",), "310.00"), ("J2270", (), "9.80")], dx=("G8929",)), bundle(m, criteria=False, cpep=False))
m = member(); scenario("external-morphine-released", x12(isa(), m, "MORPH-OK", [("E0781", ("KX",), "310.00"), ("J2270", (), "9.80")], dx=("G893", "C250")), bundle(m, criteria=False, cpep=False))
m = member(); scenario("external-excluded-drug", x12(isa(), m, "VANCO", [("E0781", ("KX",), "310.00"), ("J3370", (), "20.00")], dx=("A419",)), bundle(m, criteria=False, cpep=False))
m = member(); scenario("external-indication-unlisted", x12(isa(), m, "UNLISTED", [("K0455", ("KX",), "500.00")], dx=("I2720",)), bundle(m, criteria=False, cpep=False))
m = member(); scenario("external-inotrope-lcd-overlay", x12(isa(), m, "INOTROPE", [("E0781", ("KX", "RR"), "310.00"), ("J2260", (), "14.75")], dx=("I509",)), bundle(m, criteria=False, cpep=False))
# Implantable pumps.
m = member(); scenario("implantable-excluded", x12(isa(), m, "IMP-HEP", [("E0783", (), "11250.00"), ("J1644", (), "14.75")], dx=("I2699",), pos="21"), bundle(m, criteria=False, cpep=False))
m = member(); scenario("implantable-review", x12(isa(), m, "IMP-SPAS", [("E0783", (), "11250.00"), ("J0475", (), "30.00")], dx=("G800",), pos="22"), bundle(m, criteria=False, cpep=False))
m = member(); scenario("implantable-spasticity-released", x12(isa(), m, "IMP-OK", [("E0783", (), "11250.00"), ("J0475", (), "30.00")], dx=("G800",), pos="22"), bundle(m, criteria=False, cpep=False, extra=[
    evidence("oral-" + m, m, "oral-antispasmodic-trial-failed", True),
    evidence("test-" + m, m, "intrathecal-test-dose-response", True)]))
# Claim lifecycle: a duplicate is answered again, a replacement supersedes, a void closes.
m = member(); scenario("claim-duplicate", x12(isa(), m, "DUP", PUMP), bundle(m),
                       more_claims=[x12("%09d" % (900 + n), m, "DUP", PUMP)])
m = member(); scenario("claim-replacement", x12(isa(), m, "REPL", [("E0784", ("NU",), "4821.55")]), bundle(m),
                       more_claims=[x12("%09d" % (900 + n), m, "REPL", PUMP, frequency="7")])
m = member(); scenario("claim-void", x12(isa(), m, "VOID", [("E0784", ("NU",), "4821.55")]), bundle(m),
                       more_claims=[x12("%09d" % (900 + n), m, "VOID", PUMP, frequency="8")])
# Out of scope.
m = member(); scenario("scope-not-infusion-pump", x12(isa(), m, "OFFICE-VISIT", [("99213", (), "125.00")], pos="11", prior_auth=None))

ROOT_HL7V2 = "samples/inputs/scenarios-hl7v2"
MSH_TIME = "20260405120000+0000"  # every record message is sent after its facts


def hl7_time(fhir):
    """A FHIR date or dateTime as an HL7 DTM (same date as written, same offset)."""
    date, _, time = fhir.partition("T")
    out = date.replace("-", "")
    if not time:
        return out
    zone = ""
    if time.endswith("Z"):
        time, zone = time[:-1], "+0000"
    elif len(time) > 6 and time[-6] in "+-":
        time, zone = time[:-6], time[-6] + time[-5:].replace(":", "")
    return out + time.replace(":", "") + zone


def hl7_number(value):
    return ("%.10f" % value).rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def pid(member, patient=None):
    birth = hl7_time(patient["birthDate"]) if patient and "birthDate" in patient else ""
    sex = {"female": "F", "male": "M"}.get((patient or {}).get("gender"), "")
    return "PID|1||%s^^^CMS&2.16.840.1.113883.4.927&ISO^MC||||%s|%s" % (member, birth, sex)


def msh(kind, control):
    return ("MSH|^~\\&|COVGATE-SAMPLES|SAMPLE-HOSP|COVGATE|SAMPLE|%s||%s|%s|P|2.5.1"
            % (MSH_TIME, kind, control))


def hl7_records(bundle, member, patient):
    """The HL7 v2 messages that carry what a scenario's FHIR Bundle carries. Every PID carries
    the patient's birth date and sex (as LRI requires), even where the Bundle has no Patient."""
    resources = [e["resource"] for e in bundle["entry"]]
    practitioners = {}
    for e in bundle["entry"]:
        if e["resource"]["resourceType"] == "Practitioner":
            practitioners[e["fullUrl"]] = e["resource"]
    messages = []
    for r in resources:
        if r["resourceType"] != "Encounter":
            continue
        assert r["status"] == "finished" and r["class"]["code"] == "AMB" and "end" not in r["period"]
        doctors = []
        for p in r["participant"]:
            q = practitioners[p["individual"]["reference"]]["qualification"][0]["code"]["coding"][0]
            # XCN-1 id, XCN-2/3 name, XCN-21 the credential (table 0360).
            doctors.append("DR-%s^DOC^ALEX%s^%s" % (member, "^" * 17, q["code"]))
        pv1 = ["PV1", "1", "O", "CLINIC^^^SAMPLE-HOSP"] + [""] * 41
        pv1[7] = "~".join(doctors)
        pv1[19] = "%s^^^SAMPLE-HOSP^VN" % r["id"]
        pv1[44] = hl7_time(r["period"]["start"])
        messages.append([msh("ADT^A03^ADT_A03", "ADT-%s-%d" % (member, len(messages) + 1)),
                         "EVN|A03|" + MSH_TIME, pid(member, patient), "|".join(pv1)])
    observations = [r for r in resources if r["resourceType"] == "Observation"]
    if observations or not messages:
        oru = [msh("ORU^R01^ORU_R01", "ORU-%s-%d" % (member, len(messages) + 1)),
               pid(member, patient)]
        for n, o in enumerate(observations, 1):
            coding = o["code"]["coding"][0]
            when = hl7_time(o["effectiveDateTime"])
            oru.append("OBR|%d||%s^SAMPLE-LAB|%s|||%s" % (n, o["id"], "PANEL^Panel^L", when))
            if coding["system"] == "http://loinc.org":
                q = o["valueQuantity"]
                low = o.get("referenceRange", [{}])[0].get("low")
                rng = ">=" + hl7_number(low["value"]) if low else ""
                oru.append("OBX|1|NM|%s^^LN||%s|%s^^UCUM|%s||||F" %
                           (coding["code"], hl7_number(q["value"]), q["code"], rng))
            else:
                code = coding["code"] + "^^99COVGATE"
                if "valueBoolean" in o:
                    yes = o["valueBoolean"]
                    oru.append("OBX|1|CWE|%s||%s^HL70136||||||F" %
                               (code, "Y^Yes" if yes else "N^No"))
                else:
                    oru.append("OBX|1|NM|%s||%s||||||F" %
                               (code, hl7_number(o["valueQuantity"]["value"])))
        messages.append(oru)
    return "".join("".join(segment + "\r" for segment in m) for m in messages)


if __name__ == "__main__":
    shutil.rmtree(ROOT, ignore_errors=True)
    shutil.rmtree(ROOT_HL7V2, ignore_errors=True)
    for number, (name, claim, facts, later, more_claims) in enumerate(scenarios, 1):
        folder = os.path.join(ROOT, "%02d-%s" % (number, name))
        os.makedirs(folder)
        step = 1
        if facts:
            with open(os.path.join(folder, "%d-record.json" % step), "w") as f:
                json.dump(facts, f, indent=1)
                f.write("\n")
            step += 1
        with open(os.path.join(folder, "%d-claim.x12" % step), "w") as f:
            f.write(claim)
        step += 1
        if later:
            with open(os.path.join(folder, "%d-late-labs.json" % step), "w") as f:
                json.dump(later, f, indent=1)
                f.write("\n")
            step += 1
        for claim_text in more_claims:
            with open(os.path.join(folder, "%d-claim-again.x12" % step), "w") as f:
                f.write(claim_text)
            step += 1
        if not facts:
            continue
        # The same scenario with its records as HL7 v2: the .x12 files as they are, each .json
        # file replaced by an .hl7 file with the same clinical content.
        patient = facts["entry"][0]["resource"]
        member_id = patient["identifier"][0]["value"]
        folder_v2 = os.path.join(ROOT_HL7V2, os.path.basename(folder))
        os.makedirs(folder_v2)
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if name.endswith(".x12"):
                shutil.copyfile(path, os.path.join(folder_v2, name))
            else:
                with open(path) as f:
                    bundle = json.load(f)
                with open(os.path.join(folder_v2, name[:-len(".json")] + ".hl7"), "w",
                          newline="") as f:
                    f.write(hl7_records(bundle, member_id, patient))
    # Input replay refuses: two interchanges with a wrong SE01 (each answered by its own 999
    # with its own ISA13), a FHIR record with a datatype error, and a file that is neither.
    m = member()
    folder = os.path.join(ROOT, "%02d-input-rejected" % (len(scenarios) + 1))
    os.makedirs(folder)
    with open(os.path.join(folder, "1-claim.x12"), "w") as f:
        f.write(x12("000000701", m, "REJ-OK", PUMP))
    for step, control in ((2, "000000702"), (3, "000000703")):
        bad = x12(control, m, "REJ-%d" % step, PUMP)
        count = bad[bad.index("\nSE*") + 4:].split("*")[0]
        bad = bad.replace("\nSE*%s*" % count, "\nSE*%d*" % (int(count) + 5))
        with open(os.path.join(folder, "%d-claim-bad-count.x12" % step), "w") as f:
            f.write(bad)
    with open(os.path.join(folder, "4-record-invalid.json"), "w") as f:
        json.dump({"resourceType": "Patient", "id": "rej-" + m, "birthDate": "not-a-date"}, f)
        f.write("\n")
    with open(os.path.join(folder, "5-notes.txt"), "w") as f:
        f.write("Notes kept beside the inputs: neither X12, FHIR nor HL7 v2.\n")
    print("%d scenarios in %s (and their HL7 v2 form in %s)" % (len(scenarios) + 1, ROOT, ROOT_HL7V2))

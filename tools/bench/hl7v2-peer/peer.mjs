// Parses every message of an ER7 file with @medplum/core's Hl7Message.parse and reads each
// OBX's code, value, units and status (what covgate reads), timing only that work.
//   node peer.mjs FILE  → prints "<MB/s> <OBX/s> <messages> <obx>"
import { Hl7Message } from "@medplum/core";
import { readFileSync } from "node:fs";

const text = readFileSync(process.argv[2], "latin1");
// The file holds CR-terminated messages one after the other: split where a segment starts MSH.
const messages = text.split(/\r(?=MSH\|)/).map((m, i, all) => (i < all.length - 1 ? m + "\r" : m));
let best = Infinity;
let obx = 0;
for (let round = 0; round < 3; round++) {
  obx = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  for (const m of messages) {
    const message = Hl7Message.parse(m);
    for (const segment of message.getAllSegments("OBX")) {
      sink += segment.getField(3).getComponent(1).length + segment.getField(5).toString().length;
      sink += segment.getField(6).getComponent(1).length + segment.getField(11).toString().length;
      obx++;
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (sink < 0) console.log(sink);
  best = Math.min(best, seconds);
}
const mbs = Buffer.byteLength(text, "latin1") / 1e6 / best;
console.log(`${mbs.toFixed(2)} ${(obx / best).toFixed(0)} ${messages.length} ${obx}`);

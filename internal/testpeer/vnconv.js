// The test oracle for VNI and TCVN3: the npm package vietnamese-conversion
// (installed by .ci/run, never used at run time). Reads a JSON array of
// requests on stdin and writes a JSON array of answers:
//   {"text": "Truyện Kiều", "to": "vni"}   -> {"hex": "5472..."}   (bytes)
// The package's VNI and TCVN3 strings hold one character per byte
// (U+0000-U+00FF), so bytes are the Latin-1 encoding of its strings.
const vc = require("vietnamese-conversion");
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const out = JSON.parse(input).map((q) => {
    const s = new vc.VietnameseConversion(q.text, "unicode").toCharset(q.to);
    for (const ch of s) {
      if (ch.codePointAt(0) > 0xff) throw new Error("not a byte: " + ch);
    }
    return { hex: Buffer.from(s, "latin1").toString("hex") };
  });
  process.stdout.write(JSON.stringify(out));
});

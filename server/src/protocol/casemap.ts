// CASEMAPPING=rfc1459: A-Z [ ] \ ~ fold to a-z { } | ^ (modern.ircdocs.horse#casemapping-parameter).
const TABLE: string[] = [];
for (let c = 0; c < 128; c++) TABLE[c] = String.fromCharCode(c);
for (let c = 65; c <= 90; c++) TABLE[c] = String.fromCharCode(c + 32);
TABLE[0x5b] = '{'; TABLE[0x5d] = '}'; TABLE[0x5c] = '|'; TABLE[0x7e] = '^';

export function foldCase(s: string): string {
  let needs = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 65 && c <= 93) || c === 0x7e) { needs = true; break; }
  }
  if (!needs) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c < 128 ? TABLE[c] : s[i];
  }
  return out;
}

export function caseEquals(a: string, b: string): boolean {
  return a.length === b.length && foldCase(a) === foldCase(b);
}

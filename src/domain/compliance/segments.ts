/**
 * SMS segment counting (contract §5), matching Twilio's own calculator (`sms-segments-calculator`,
 * the test oracle): GSM-7 is 160 septets in one segment, 153 per segment when concatenated, an
 * extension-table character costs two septets and is never split across segments; anything
 * outside GSM-7 makes the message UCS-2: 70 UTF-16 units alone, 67 per segment, and a grapheme
 * (an emoji, a letter with combining marks) is never split across segments. No "smart encoding":
 * characters are never replaced. An empty body is one (GSM-7) segment, as Twilio counts it.
 */

export type Encoding = "GSM-7" | "UCS-2";

export interface SegmentInfo {
  encoding: Encoding;
  segments: number;
  /** Septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2. */
  units: number;
}

// GSM 03.38 basic set (without the escape) and the extension table, as UTF-16 code units.
const BASIC =
  "\n\r !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz¡£¤¥§¿ÄÅÆÇÉÑÖØÜßàäåæèéìñòöøùüΓΔΘΛΞΠΣΦΨΩ";
const EXTENSION = "\f[\\]^{|}~€";

/** Septets per code unit: 1 basic, 2 extension, 0 not in GSM-7. */
const SEPTETS = new Uint8Array(0x10000);
for (const c of BASIC) SEPTETS[c.charCodeAt(0)] = 1;
for (const c of EXTENSION) SEPTETS[c.charCodeAt(0)] = 2;

const GSM_SINGLE = 160;
const GSM_MULTI = 153;
const UCS_SINGLE = 70;
const UCS_MULTI = 67;

/** Greedy packing of indivisible pieces into segments of `capacity` units. */
function pack(sizes: Iterable<number>, capacity: number): number {
  let segments = 1;
  let used = 0;
  for (const size of sizes) {
    if (used + size > capacity) {
      segments += 1;
      used = 0;
    }
    used += size;
  }
  return segments;
}

function* septetSizes(text: string): Generator<number> {
  for (let i = 0; i < text.length; i++) yield SEPTETS[text.charCodeAt(i)]!;
}

let segmenter: Intl.Segmenter | undefined;

function* graphemeSizes(text: string): Generator<number> {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
  for (const { segment } of segmenter.segment(text)) {
    // Twilio's calculator counts CR LF as two characters, not one grapheme.
    if (segment === "\r\n") {
      yield 1;
      yield 1;
    } else yield segment.length;
  }
}

export function countSegments(text: string): SegmentInfo {
  let septets = 0;
  let gsm = true;
  for (let i = 0; i < text.length; i++) {
    const cost = SEPTETS[text.charCodeAt(i)]!;
    if (cost === 0) {
      gsm = false;
      break;
    }
    septets += cost;
  }
  if (gsm) {
    return { encoding: "GSM-7", units: septets, segments: septets <= GSM_SINGLE ? 1 : pack(septetSizes(text), GSM_MULTI) };
  }
  const units = text.length;
  return { encoding: "UCS-2", units, segments: units <= UCS_SINGLE ? 1 : pack(graphemeSizes(text), UCS_MULTI) };
}

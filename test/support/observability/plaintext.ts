/** Each plaintext as written, and as a JSON \u escape would spell it. */
export const spellings = (plain: string): string[] => [
  plain,
  [...plain].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''),
];

/** Where each needle appears in `haystack`, with some context around it: an empty list when none does. */
export function hits(haystack: string, needles: string[]): string[] {
  return needles.flatMap((needle) => {
    const at = haystack.indexOf(needle);
    return at < 0 ? [] : [`${needle} in …${haystack.slice(Math.max(0, at - 120), at + needle.length + 40)}…`];
  });
}

/**
 * Chinese resident identity card number (GB 11643-1999): 17 digits and an ISO 7064 MOD 11-2 check character.
 * Returns the reason it is invalid, or undefined. Never echoes the number.
 */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';

export function residentIdIssue(id: string): string | undefined {
  if (!/^\d{17}[\dX]$/.test(id)) return 'must be 18 characters: 17 digits and a digit or upper-case X';
  const sum = WEIGHTS.reduce((acc, w, i) => acc + w * Number(id[i]), 0);
  if (CHECK[sum % 11] !== id[17]) return 'has an invalid check digit (GB 11643 MOD 11-2)';
  const birth = id.slice(6, 14);
  const date = new Date(`${birth.slice(0, 4)}-${birth.slice(4, 6)}-${birth.slice(6, 8)}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10).replaceAll('-', '') !== birth) {
    return 'has an invalid birth date';
  }
  return undefined;
}

/**
 * WeChat Pay's display-name mask: keep the last character, every other character becomes `*`;
 * names longer than 4 characters become `***` plus the last character.
 */
export function maskName(name: string): string {
  const chars = Array.from(name);
  const last = chars[chars.length - 1] ?? '';
  return chars.length > 4 ? `***${last}` : `${'*'.repeat(chars.length - 1)}${last}`;
}

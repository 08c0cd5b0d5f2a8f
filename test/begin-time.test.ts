import { describe, expect, it } from 'vitest';
import { BeginTimeError, MAX_BEGIN_DAYS, parseBeginTime } from '../shared/job/begin-time.js';

// A Wednesday afternoon, UTC.
const now = new Date('2026-12-02T14:30:00Z');
const at = (text: string) => parseBeginTime(text, now).toISOString();

describe("begin times in sbatch's --begin formats, read in UTC", () => {
  it.each([
    ['now', '2026-12-02T14:30:00.000Z'],
    ['now+60', '2026-12-02T14:31:00.000Z'],
    ['now+90seconds', '2026-12-02T14:31:30.000Z'],
    ['now+5minutes', '2026-12-02T14:35:00.000Z'],
    ['now+1hour', '2026-12-02T15:30:00.000Z'],
    ['now + 2 hours', '2026-12-02T16:30:00.000Z'],
    ['now+3days', '2026-12-05T14:30:00.000Z'],
    ['now+1week', '2026-12-09T14:30:00.000Z'],
    ['NOW+1HOUR', '2026-12-02T15:30:00.000Z'],
    ['now-10minutes', '2026-12-02T14:20:00.000Z'],
  ])('reads %s relative to now', (text, expected) => expect(at(text)).toBe(expected));

  it.each([
    ['16:00', '2026-12-02T16:00:00.000Z'],
    ['16:00:30', '2026-12-02T16:00:30.000Z'],
    ['4:00 PM', '2026-12-02T16:00:00.000Z'],
    ['4:00pm', '2026-12-02T16:00:00.000Z'],
    ['12:00 AM', '2026-12-03T00:00:00.000Z'],
    ['12:15 PM', '2026-12-03T12:15:00.000Z'],
    // Passed today: tomorrow's.
    ['09:00', '2026-12-03T09:00:00.000Z'],
    ['midnight', '2026-12-03T00:00:00.000Z'],
    ['noon', '2026-12-03T12:00:00.000Z'],
    ['elevenses', '2026-12-03T11:00:00.000Z'],
    ['fika', '2026-12-02T15:00:00.000Z'],
    ['teatime', '2026-12-02T16:00:00.000Z'],
  ])('reads the time of day %s as the next such time', (text, expected) => expect(at(text)).toBe(expected));

  it.each([
    ['today', '2026-12-02T00:00:00.000Z'],
    ['tomorrow', '2026-12-03T00:00:00.000Z'],
    ['1224', '2026-12-24T00:00:00.000Z'],
    ['122427', '2027-12-24T00:00:00.000Z'],
    ['12/24', '2026-12-24T00:00:00.000Z'],
    ['12/24/27', '2027-12-24T00:00:00.000Z'],
    ['12.24', '2026-12-24T00:00:00.000Z'],
    ['12.24.27', '2027-12-24T00:00:00.000Z'],
    // Passed this year: next year's.
    ['0315', '2027-03-15T00:00:00.000Z'],
    ['3/15', '2027-03-15T00:00:00.000Z'],
  ])('reads the date %s as its midnight', (text, expected) => expect(at(text)).toBe(expected));

  it.each([
    ['16:00 tomorrow', '2026-12-03T16:00:00.000Z'],
    ['tomorrow 16:00', '2026-12-03T16:00:00.000Z'],
    ['noon 12/24', '2026-12-24T12:00:00.000Z'],
    ['teatime today', '2026-12-02T16:00:00.000Z'],
    ['4:00 PM tomorrow', '2026-12-03T16:00:00.000Z'],
  ])('reads a time of day with a date: %s', (text, expected) => expect(at(text)).toBe(expected));

  it.each([
    ['2026-12-24', '2026-12-24T00:00:00.000Z'],
    ['2026-12-24T18:45', '2026-12-24T18:45:00.000Z'],
    ['2026-12-24T18:45:10', '2026-12-24T18:45:10.000Z'],
    ['2026-12-24T18:45:10Z', '2026-12-24T18:45:10.000Z'],
    ['2026-12-24T18:45:10+02:00', '2026-12-24T16:45:10.000Z'],
    ['2026-12-24T18:45-0500', '2026-12-24T23:45:00.000Z'],
  ])('reads %s, in UTC unless it names an offset', (text, expected) => expect(at(text)).toBe(expected));

  it.each([
    'soon',
    '',
    'now+1fortnight',
    '25:00',
    '13:00 PM',
    '12:60',
    '0230',
    '2/30',
    '13/01',
    '2026-02-30',
    '2026-12-24T24:00',
    'noon midnight',
    'today tomorrow',
    'noon tomorrow extra',
    `now+${MAX_BEGIN_DAYS + 1}days`,
    // Counts so large no Date holds the instant (an Invalid Date, once a 500 at insert).
    'now+99999999999999weeks',
    'now-99999999999999weeks',
  ])('refuses %j, saying which formats there are', (text) => {
    expect(() => parseBeginTime(text, now)).toThrow(BeginTimeError);
  });

  it('names the formats in its refusal', () => {
    expect(() => parseBeginTime('soon', now)).toThrow(/not a begin time: use HH:MM\[:SS\] \[AM\|PM\], MMDD\[YY\]/);
  });
});

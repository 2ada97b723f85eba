// The body of a round review (POST /api/v1/round-reviews, docs/api.md "Round reviews (the week)")
// made from the problem loaded in the map and the calendar the planner chose.
//
// A council's gazetteer gives each bin's frequency, collection day, week and round as it writes
// them ("Alternate weekly", "Tuesday", "2"); the upload keeps them as the bin's attributes
// (docs/council_data.md). They are read here into the review's own words. A value that cannot be
// read is passed on as written, so that the service answers 422 naming the field and the bin,
// rather than the map dropping it without a word.

/** The weekdays a calendar may hold, in order (the API's names). */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

const FREQUENCIES = new Map([
  ['weekly', 'weekly'], ['every_week', 'weekly'],
  ['fortnightly', 'fortnightly'], ['alternate_weekly', 'fortnightly'], ['alternate_week', 'fortnightly'],
  ['every_other_week', 'fortnightly'], ['every_two_weeks', 'fortnightly'], ['awc', 'fortnightly'],
  ['twice_weekly', 'twice_weekly'], ['twice_a_week', 'twice_weekly'],
]);

/** A frequency as a council writes it ("Alternate weekly") in the API's words, else as written. */
export function frequencyOf(written) {
  if (written === undefined || written === null || written === '') return undefined;
  if (typeof written === 'object') return written; // {"visits": k} already
  const key = String(written).trim().toLowerCase().replace(/[\s-]+/g, '_');
  return FREQUENCIES.get(key) ?? String(written);
}

/** A weekday as written ("Tuesday", "TUE", "Thurs") as the API names it, else as written. */
export function weekdayOf(written) {
  const text = String(written).trim().toLowerCase();
  const day = WEEKDAYS.find((d) => text.startsWith(d));
  return day ?? String(written);
}

/**
 * A week as written ("B", "2", "week 2") as one of the calendar's `weeks`: its label, or the
 * n-th week for a number n; null when none is written (every week); else as written.
 */
export function weekOf(written, weeks) {
  if (written === undefined || written === null || String(written).trim() === '') return null;
  const text = String(written).trim().replace(/^week\s*/i, '');
  const label = weeks.find((w) => w.toLowerCase() === text.toLowerCase());
  if (label) return label;
  const n = Number(text);
  if (Number.isInteger(n) && n >= 1 && n <= weeks.length) return weeks[n - 1];
  return String(written);
}

/** A review's bin: the bin as loaded, with its frequency, household, today's day and address read from its attributes. */
function reviewBin(bin, weeks) {
  const a = bin.attributes || {};
  const out = { ...bin };
  const frequency = frequencyOf(bin.frequency ?? a.frequency);
  if (frequency !== undefined) out.frequency = frequency;
  const household = bin.property ?? a.uprn ?? a.property;
  if (household !== undefined && household !== null && household !== '') out.property = String(household);
  if (!bin.current && a.day !== undefined && a.day !== null && String(a.day).trim() !== '') {
    out.current = { day: weekdayOf(a.day), week: weekOf(a.week, weeks) };
    if (a.round !== undefined && a.round !== null && String(a.round).trim() !== '') out.current.round = String(a.round);
  }
  if (!bin.address && a.address) out.address = String(a.address);
  return out;
}

/**
 * The review body of `problem` over `calendar` ({days, weeks}) with the planner's `options`
 * ({time_limit_s, day_change_cost, keep_current_days}) over the problem's own: the problem's
 * depots and tips as they are, its vehicles with the days `vehicleDays` (Map: vehicle id -> days)
 * gives them (absent: every day of the calendar; an empty list is sent for the service to refuse,
 * naming the vehicle), its bins read by :func:`reviewBin`.
 */
export function reviewBody(problem, calendar, options, vehicleDays = new Map()) {
  // one day's rounds to start from, or to keep to, mean nothing for a week (the service refuses them)
  const { initial_routes: _routes, territories_plan_id: _territories, ...kept } = problem.options || {};
  return {
    calendar,
    depots: problem.depots,
    disposal_sites: problem.disposal_sites || [],
    vehicles: problem.vehicles.map((v) => (vehicleDays.has(v.id) ? { ...v, days: vehicleDays.get(v.id) } : v)),
    bins: problem.bins.map((bin) => reviewBin(bin, calendar.weeks)),
    options: { ...kept, ...options },
  };
}

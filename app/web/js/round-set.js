// The round set a planner works on, and how often its rounds run: a savings report's yearly figures
// are one collection's times that many. The same order as the service's report
// (app/reports/inputs.py): a frequency word in the round set's name, else the bins' own frequency
// (a gazetteer's FREQUENCY column, which the upload keeps) when every bin says the same, else the
// service's default, which the report calls an assumption.

const FREQUENCIES = {
  weekly: 52, fortnightly: 26, fortnight: 26, biweekly: 26, 'alternate-weekly': 26,
};

/** The frequency word of FREQUENCIES that `text` carries (any case), or null. */
function frequencyWord(text) {
  const lowered = String(text || '').toLowerCase().trim();
  if (FREQUENCIES[lowered.replace(/ /g, '-')]) return lowered.replace(/ /g, '-');
  return lowered.split(/[/\s_,.;:]+/).find((word) => FREQUENCIES[word]) || null;
}

/** A bin's frequency cell (its `frequency` attribute, any case of the name), or null. */
function frequencyOf(bin) {
  const attributes = bin.attributes || {};
  const key = Object.keys(attributes).find((name) => name.toLowerCase() === 'frequency');
  return key === undefined || attributes[key] === '' ? null : attributes[key];
}

/**
 * Collections a year of `roundSet` with `bins`, and where the figure comes from: `{value, source}`,
 * `value` null when neither says (the report then takes the service's default, as an assumption).
 */
export function collectionsPerYear(roundSet, bins) {
  const named = frequencyWord(roundSet);
  if (named) return { value: FREQUENCIES[named], source: `round set "${roundSet}" runs ${named}` };
  const counts = new Map();
  for (const bin of bins || []) {
    const word = frequencyOf(bin) === null ? 'none' : (frequencyWord(frequencyOf(bin)) || 'none');
    counts.set(word, (counts.get(word) || 0) + 1);
  }
  if (!counts.size) return { value: null, source: 'no bins loaded' };
  const found = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([word, n]) => `${n} ${word}`).join(', ');
  const figures = new Set([...counts.keys()].filter((w) => w !== 'none').map((w) => FREQUENCIES[w]));
  if (counts.has('none') || figures.size !== 1) {
    return { value: null, source: `neither the round set nor the bins' frequency says (${found})` };
  }
  return { value: [...figures][0], source: `the bins' FREQUENCY: ${found}` };
}

/** The note under the round set field: how often the rounds run a year and why. */
export function collectionsNote(roundSet, bins) {
  const { value, source } = collectionsPerYear(roundSet, bins);
  return value === null
    ? `Collections a year: the service's default, an assumption (${source}).`
    : `Collections a year: ${value} (${source}).`;
}

/** The query string adding `round_set` to a URL that has `?` already (`&`) or not (`?`); '' without one. */
export function roundSetQuery(roundSet, joiner) {
  return roundSet ? `${joiner}round_set=${encodeURIComponent(roundSet)}` : '';
}

// Figures as planners read them: km with one decimal, durations as h:mm, kg whole.

export function km(metres) {
  return (metres / 1000).toFixed(1);
}

export function hoursMinutes(seconds) {
  const minutes = Math.round(seconds / 60);
  const sign = minutes < 0 ? '−' : '';
  const m = Math.abs(minutes);
  return `${sign}${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}`;
}

export function kg(value) {
  return Math.round(value).toLocaleString('en-GB');
}

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

/** A time stamp (ISO 8601) as local date and time. */
export function when(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString('en-GB');
}

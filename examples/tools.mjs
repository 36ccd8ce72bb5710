// Two small, real tools for `realtime-agent --tools examples/tools.mjs` (and the README example).
// The default export is the tool list: { name, description, parameters (JSON Schema), execute }.

/** A few cities the model may name; anything else is tried as an IANA zone (e.g. "Europe/Oslo"). */
const CITY_ZONES = {
  tokyo: 'Asia/Tokyo',
  osaka: 'Asia/Tokyo',
  seoul: 'Asia/Seoul',
  beijing: 'Asia/Shanghai',
  shanghai: 'Asia/Shanghai',
  singapore: 'Asia/Singapore',
  delhi: 'Asia/Kolkata',
  mumbai: 'Asia/Kolkata',
  dubai: 'Asia/Dubai',
  moscow: 'Europe/Moscow',
  istanbul: 'Europe/Istanbul',
  berlin: 'Europe/Berlin',
  paris: 'Europe/Paris',
  madrid: 'Europe/Madrid',
  rome: 'Europe/Rome',
  london: 'Europe/London',
  dublin: 'Europe/Dublin',
  lisbon: 'Europe/Lisbon',
  'new york': 'America/New_York',
  york: 'America/New_York',
  chicago: 'America/Chicago',
  denver: 'America/Denver',
  'los angeles': 'America/Los_Angeles',
  'san francisco': 'America/Los_Angeles',
  toronto: 'America/Toronto',
  'mexico city': 'America/Mexico_City',
  'sao paulo': 'America/Sao_Paulo',
  sydney: 'Australia/Sydney',
  auckland: 'Pacific/Auckland',
  utc: 'UTC',
};

/** City name or IANA zone -> IANA zone; throws a one-line error the model can act on. */
export function zoneOf(place) {
  const key = String(place ?? '').trim().toLowerCase();
  if (CITY_ZONES[key]) return CITY_ZONES[key];
  try {
    return new Intl.DateTimeFormat('en-GB', { timeZone: String(place).trim() }).resolvedOptions().timeZone;
  } catch {
    throw new Error(`unknown city or time zone "${place}": give a city such as Tokyo or an IANA zone such as Asia/Tokyo`);
  }
}

export function timeIn(place, now = new Date()) {
  const timeZone = zoneOf(place);
  const time = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(now);
  const date = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
  return { place: String(place), timeZone, time, date };
}

/** Linear factors to a base unit per dimension; temperatures are converted through Celsius. */
const UNITS = {
  km: ['length', 1000],
  miles: ['length', 1609.344],
  meters: ['length', 1],
  feet: ['length', 0.3048],
  kg: ['mass', 1],
  pounds: ['mass', 0.45359237],
  liters: ['volume', 1],
  gallons: ['volume', 3.785411784],
  celsius: ['temperature', null],
  fahrenheit: ['temperature', null],
};

export function convert(value, from, to) {
  const a = UNITS[from];
  const b = UNITS[to];
  if (!a || !b) throw new Error(`unknown unit: use one of ${Object.keys(UNITS).join(', ')}`);
  if (a[0] !== b[0]) throw new Error(`cannot convert ${a[0]} (${from}) to ${b[0]} (${to})`);
  let result;
  if (a[0] === 'temperature') {
    const c = from === 'celsius' ? value : ((value - 32) * 5) / 9;
    result = to === 'celsius' ? c : (c * 9) / 5 + 32;
  } else {
    result = (value * a[1]) / b[1];
  }
  return { value, from, to, result: Math.round(result * 1000) / 1000 };
}

export default [
  {
    name: 'get_time',
    description: 'The current local time and date in a city or IANA time zone.',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', description: 'A city (e.g. Tokyo) or an IANA time zone (e.g. Asia/Tokyo)' } },
      required: ['city'],
      additionalProperties: false,
    },
    execute: ({ city }) => timeIn(city),
  },
  {
    name: 'convert_units',
    description: 'Convert a value between units of length, mass, volume or temperature.',
    parameters: {
      type: 'object',
      properties: {
        value: { type: 'number' },
        from: { type: 'string', enum: Object.keys(UNITS) },
        to: { type: 'string', enum: Object.keys(UNITS) },
      },
      required: ['value', 'from', 'to'],
      additionalProperties: false,
    },
    execute: ({ value, from, to }) => convert(value, from, to),
  },
];

/**
 * Parsers for numeric command-line options (commander calls them with the text given). A bad
 * value is an `InvalidArgumentError` naming the option, printed as one line like every other
 * radarlib error (`radarlib: Invalid --limit: expected an integer >= 1, got "0"`).
 */
import { InvalidArgumentError } from '../errors.js';

/** The parser of an option that takes an integer >= 1. */
export function positiveInt(option: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) {
      throw new InvalidArgumentError(option, `expected an integer >= 1, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

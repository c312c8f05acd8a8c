/**
 * commander's values, loaded with `require`. commander is CommonJS (its ESM entry only imports
 * the CommonJS one), so an ESM `import` of it makes Node scan its source for named exports at
 * every start of the CLI. The same classes either way (one require cache).
 *
 * Types still come from `import type ... from 'commander'` (erased). Import commander's values
 * from here only: one ESM import of it anywhere in src/ brings the scan back.
 */
import { createRequire } from 'node:module';
import type * as CommanderModule from 'commander';

const commander = createRequire(import.meta.url)('commander') as typeof CommanderModule;

export const Command: typeof CommanderModule.Command = commander.Command;
export type Command = CommanderModule.Command;
export const Option: typeof CommanderModule.Option = commander.Option;
export type Option = CommanderModule.Option;

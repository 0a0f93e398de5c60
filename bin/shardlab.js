#!/usr/bin/env node
import { main, reportError } from '../dist/engine/cli/main.js';

// Errors outside main's promise (a callback, a stray rejection) get the same last resort as those inside it.
const last = (e) => {
  process.exitCode = reportError(e);
  process.exit();
};
process.on('uncaughtException', last);
process.on('unhandledRejection', last);

process.exitCode = await main(process.argv.slice(2));

#!/usr/bin/env node
// `subnet`: runs the built CLI (dist/, from `npm run build`, shipped in the package) when it is there and
// up to date, else the TypeScript sources through tsx (a source checkout: slower start, always current).
import { pickEntry } from './entry.js';

await pickEntry('cli/main');

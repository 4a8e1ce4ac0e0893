#!/usr/bin/env node
// `npx create-subnet my-subnet`: scaffold a subnet project from templates/ (built JS or sources, as bin/subnet.js).
import { pickEntry } from './entry.js';

const { createSubnetProgram } = await pickEntry('cli/create-subnet');
const { runCli } = await pickEntry('cli/program');
await runCli(createSubnetProgram(), process.argv);

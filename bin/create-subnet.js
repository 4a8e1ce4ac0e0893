#!/usr/bin/env node
// `npx create-subnet my-subnet`: scaffold a subnet project from templates/ (runs TypeScript through tsx).
import { register } from 'tsx/esm/api';

register();
const { createSubnetProgram } = await import('../framework/cli/create-subnet.ts');
const { runCli } = await import('../framework/cli/program.ts');
await runCli(createSubnetProgram(), process.argv);

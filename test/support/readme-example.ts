/**
 * Apply the template README's "Example: reward consistency" to a generated project, exactly as its code blocks
 * say, so the pack test's `npm test` proves the walkthrough keeps the template's tests passing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SECTION = '### Example: reward consistency, not just speed';

export function exampleBlocks(readme: string): string[] {
  const start = readme.indexOf(SECTION);
  if (start < 0) throw new Error(`README has no '${SECTION}' section`);
  return [...readme.slice(start).matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** Returns the test file the example adds (relative to the project). */
export function applyReadmeExample(project: string): string {
  const [importLine, scoreMethod, testFile] = exampleBlocks(readFileSync(join(project, 'README.md'), 'utf8'));
  if (!importLine || !scoreMethod || !testFile) throw new Error('the README example must have three ts blocks: import, score method, test file');
  const path = join(project, 'src', 'commodity.ts');
  let src = readFileSync(path, 'utf8');
  const oldImport = /^import \{[^}]*\} from 'subnetkit\/commodity';\n/m;
  if (!oldImport.test(src)) throw new Error("src/commodity.ts has no import from 'subnetkit/commodity'");
  src = src.replace(oldImport, importLine);
  const oldScore = /^ {4}score\(\{ answers, state \}\) \{\n[\s\S]*?^ {4}\},\n/m;
  if (!oldScore.test(src)) throw new Error('src/commodity.ts has no score({ answers, state }) method');
  src = src.replace(oldScore, scoreMethod);
  writeFileSync(path, src);
  writeFileSync(join(project, 'test', 'consistency.test.ts'), testFile);
  return 'test/consistency.test.ts';
}

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { SCHEDULES } from '../src/schedules/table';
import * as workflows from '../src/workflows';

const ROOT = join(__dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(ROOT, path)).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every import or re-export of a module, with whether it brings in types only. */
function importsOf(file: string): { from: string; typeOnly: boolean }[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const found: { from: string; typeOnly: boolean }[] = [];
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) {
    found.push({ from: m[3], typeOnly: !!m[2] });
  }
  return found;
}

/** The repository path a relative import names, or the package name. */
const target = (file: string, from: string) =>
  from.startsWith('.') ? relative(ROOT, resolve(ROOT, dirname(file), from)) : from;

describe('the floor plan', () => {
  it('activities never import a workflow module', () => {
    const offending = sources('src/activities').flatMap((file) =>
      importsOf(file)
        .filter((i) => target(file, i.from).startsWith('src/workflows'))
        .map((i) => `${file} imports ${i.from}`),
    );
    assert.deepEqual(offending, []);
  });

  it('workflows import only the workflow SDK, the contracts layer, other workflow modules and types', () => {
    const offending = sources('src/workflows').flatMap((file) =>
      importsOf(file)
        .filter((i) => {
          if (i.typeOnly || i.from === '@temporalio/workflow') return false;
          const path = target(file, i.from);
          return !(path.startsWith('src/workflows') || path.startsWith('src/contracts'));
        })
        .map((i) => `${file} imports ${i.from}`),
    );
    assert.deepEqual(offending, []);
  });

  it('the contracts layer imports nothing with side effects', () => {
    // @noble/curves: pure Ed25519 arithmetic, no I/O and no randomness when verifying (decision-signature.ts).
    const allowed = ['zod', '@temporalio/common', '@noble/curves/ed25519'];
    const offending = sources('src/contracts').flatMap((file) =>
      importsOf(file)
        .filter((i) => !i.typeOnly && !allowed.includes(i.from) && !target(file, i.from).startsWith('src/contracts'))
        .map((i) => `${file} imports ${i.from}`),
    );
    assert.deepEqual(offending, []);
  });

  it('every procedure folder has its workflow and its messages, and a test folder of the same name', () => {
    const folders = readdirSync(join(ROOT, 'src/workflows')).filter(
      (name) =>
        statSync(join(ROOT, 'src/workflows', name)).isDirectory() && !['gates', 'common', 'operations'].includes(name),
    );
    const operations = readdirSync(join(ROOT, 'src/workflows/operations')).map((name) => `operations/${name}`);
    // A family of procedures (remediation/, remediation-wedsync/): a workflow per procedure's folder, and its
    // messages either in the procedure's folder or, when they share one input and status, one for the family.
    const families = ['remediation', 'remediation-wedsync'];
    const familyMembers = families.flatMap((family) =>
      readdirSync(join(ROOT, 'src/workflows', family))
        .filter((name) => statSync(join(ROOT, 'src/workflows', family, name)).isDirectory())
        .map((name) => `${family}/${name}`),
    );
    const missing = [
      ...[...folders.filter((f) => !families.includes(f)), ...operations].flatMap((folder) =>
        ['workflow.ts', 'messages.ts']
          .filter((f) => !existsSync(join(ROOT, 'src/workflows', folder, f)))
          .map((f) => `src/workflows/${folder}/${f}`),
      ),
      ...familyMembers
        .filter(
          (f) =>
            !existsSync(join(ROOT, 'src/workflows', f, 'messages.ts')) &&
            !existsSync(join(ROOT, 'src/workflows', f.split('/')[0], 'messages.ts')),
        )
        .map((f) => `${f}/messages.ts`),
      ...familyMembers
        .filter((f) => !existsSync(join(ROOT, 'src/workflows', f, 'workflow.ts')))
        .map((f) => `${f}/workflow.ts`),
    ];
    assert.deepEqual(missing, []);
    assert.deepEqual(
      folders.filter((f) => !existsSync(join(ROOT, 'test', f))),
      [],
      'a procedure without a test folder of its name',
    );
  });
});

describe("the README's table of procedures", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Where each procedure lives'));
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| ---') && !line.startsWith('| procedure'));

  it('names paths that exist', () => {
    assert.ok(rows.length >= 10, `${rows.length} rows`);
    const paths = rows.flatMap((row) => [...row.matchAll(/`((?:src|test)\/[^`]+)`/g)].map((m) => m[1]));
    assert.ok(paths.length >= rows.length * 3);
    assert.deepEqual(
      paths.filter((p) => !existsSync(join(ROOT, p))),
      [],
    );
  });

  it('lists the file of every workflow type the worker runs', () => {
    const listed = rows.map((row) => /`(src\/workflows\/[^`]+\/workflow\.ts)`/.exec(row)?.[1]);
    const unlisted = Object.keys(workflows).filter((type) => {
      return !listed.some(
        (path) => path && new RegExp(`export async function ${type}\\b`).test(readFileSync(join(ROOT, path), 'utf8')),
      );
    });
    assert.deepEqual(unlisted, []);
  });

  it('names only schedules of the schedule table, and all of them', () => {
    const named = [...section.matchAll(/`((?:wedsync|scrolluniversity)-[a-z-]+)`/g)].map((m) => m[1]);
    const table = SCHEDULES.map((s) => s.scheduleId);
    assert.deepEqual([...new Set(named)].sort(), [...table].sort());
  });
});

/**
 * Reads the repository's Dockerfile and carries its stages out on this machine, which has no container engine:
 * each stage gets a directory standing for its /app, its COPY lines copy from the repository or from an earlier
 * stage's directory, and its RUN lines run there with Node 24 first on PATH, as in the image (an apt-get install is
 * checked against this machine's packages instead). Instructions this
 * does not know fail the test, so a Dockerfile change cannot leave the layout test behind unnoticed.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, posix, relative } from 'node:path';

export const ROOT = join(__dirname, '..', '..', '..');
const WORKDIR = '/app';

export interface Instruction {
  op: string;
  args: string;
}

export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

export function parseDockerfile(text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')): Stage[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op, args] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === 'FROM') {
      const [from, as, name] = args.split(/\s+/);
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : `stage${stages.length}`, instructions: [] });
    } else {
      if (stages.length === 0) throw new Error(`Dockerfile: ${op} before FROM`);
      stages[stages.length - 1].instructions.push({ op: op.toUpperCase(), args });
    }
  }
  return stages;
}

export const finalStage = (stages: Stage[]) => stages[stages.length - 1];

export const instructions = (stage: Stage, op: string) => stage.instructions.filter((i) => i.op === op);

/** ENV lines as a map (one KEY=value per line, as ours are written). */
export function stageEnv(stage: Stage): Record<string, string> {
  return Object.fromEntries(
    instructions(stage, 'ENV').map((i) => {
      const at = i.args.indexOf('=');
      return [i.args.slice(0, at), i.args.slice(at + 1)];
    }),
  );
}

export function parseCopy(args: string): { from?: string; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
  const paths = words.filter((w) => !w.startsWith('--'));
  return { from, sources: paths.slice(0, -1), dest: paths[paths.length - 1] };
}

/**
 * The packages a RUN line installs with apt-get (`name=version` as written, quotes removed), or undefined when it
 * runs no apt-get install.
 */
export function aptPackages(args: string): string[] | undefined {
  const install = args
    .split('&&')
    .map((c) => c.trim())
    .find((c) => /^apt-get\s+install\b/.test(c));
  if (!install) return undefined;
  return install
    .split(/\s+/)
    .slice(2)
    .filter((w) => !w.startsWith('-'))
    .map((w) => w.replace(/^'(.*)'$/, '$1'));
}

/** Whether this machine has a Debian package installed at a version the pin (`name=glob`) accepts. */
function installedHere(pin: string): boolean {
  const [name, glob = '*'] = pin.split('=');
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status} ${Version}', name], { encoding: 'utf8' });
  const [, version] = /^install ok installed (\S+)$/.exec(result.stdout.trim()) ?? [];
  if (!version) return false;
  const pattern = new RegExp(`^${glob.replace(/[.+]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return pattern.test(version);
}

/** The environment RUN lines get: this machine's, less npm's own variables from an outer `npm test`, Node 24 first. */
function runEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
  return { ...env, ...extra, PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
}

/** Carries out every stage under `into`; returns each stage's directory by name. */
export function layOut(stages: Stage[], into: string): Map<string, string> {
  const dirs = new Map<string, string>();
  for (const stage of stages) {
    const dir = join(into, stage.name);
    mkdirSync(dir, { recursive: true });
    dirs.set(stage.name, dir);
    const env: Record<string, string> = {};
    for (const { op, args } of stage.instructions) {
      switch (op) {
        case 'WORKDIR':
          if (args !== WORKDIR) throw new Error(`Dockerfile: WORKDIR ${args}; this layout knows ${WORKDIR} only`);
          break;
        case 'COPY': {
          const { from, sources, dest } = parseCopy(args);
          const base = from === undefined ? ROOT : dirs.get(from);
          if (!base) throw new Error(`Dockerfile: COPY --from=${from} names no earlier stage`);
          const intoDir = dest.endsWith('/') || sources.length > 1;
          for (const source of sources) {
            const path = from === undefined ? join(base, source) : join(base, posix.relative(WORKDIR, source));
            if (!existsSync(path)) throw new Error(`Dockerfile: COPY ${args}: no ${relative(into, path) || path}`);
            const target = join(dir, dest, intoDir ? basename(source) : '');
            mkdirSync(dirname(target), { recursive: true });
            cpSync(path, target, { recursive: true });
          }
          break;
        }
        case 'RUN': {
          // System packages are not laid out into a directory: this machine (Debian bookworm, as the image) must
          // have them, at a version the pin accepts, as the native stack installs them (scripts/lib/tools.ts).
          const packages = aptPackages(args);
          if (packages) {
            const missing = packages.filter((p) => !installedHere(p));
            if (missing.length)
              throw new Error(`Dockerfile stage ${stage.name}: RUN ${args}: not installed here: ${missing.join(', ')}`);
            break;
          }
          const result = spawnSync('sh', ['-c', args], {
            cwd: dir,
            env: runEnv(env),
            encoding: 'utf8',
            timeout: 300_000,
          });
          if (result.status !== 0) {
            throw new Error(
              `Dockerfile stage ${stage.name}: RUN ${args} exited ${result.status}:\n${result.stdout}${result.stderr}`.slice(
                -4000,
              ),
            );
          }
          break;
        }
        case 'ENV':
          Object.assign(env, stageEnv({ ...stage, instructions: [{ op, args }] }));
          break;
        case 'USER':
        case 'EXPOSE':
        case 'CMD':
          break; // read by the tests from the parsed stage
        default:
          throw new Error(`Dockerfile: ${op} is not carried out by test/deploy/dockerfile.ts`);
      }
    }
  }
  return dirs;
}

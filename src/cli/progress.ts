// A progress line on stderr for runs that take more than a second, only on an interactive terminal: never when
// stderr is a pipe or a file, never in CI (CI, GITHUB_ACTIONS …), never with --quiet. It is erased before output.

export interface ProgressStream {
  isTTY?: boolean;
  write(s: string): boolean;
}

export interface Progress {
  files(count: number): void;
  stop(): void;
}

const CI_VARS = ['CI', 'GITHUB_ACTIONS', 'BUILDKITE', 'TF_BUILD', 'GITLAB_CI', 'JENKINS_URL', 'TEAMCITY_VERSION'];

export function progressWanted(stream: ProgressStream, env: NodeJS.ProcessEnv, quiet: boolean): boolean {
  if (quiet || stream.isTTY !== true) return false;
  if (env.TERM === 'dumb') return false;
  return !CI_VARS.some((v) => env[v] !== undefined && env[v] !== '' && env[v] !== 'false' && env[v] !== '0');
}

export function startProgress(stream: ProgressStream, enabled: boolean, options: { delayMs?: number; intervalMs?: number } = {}): Progress {
  if (!enabled) return { files() {}, stop() {} };
  const started = Date.now();
  let count: number | null = null;
  let shown = false;
  let timer: NodeJS.Timeout | null = null;
  const draw = () => {
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    stream.write(`\r\x1b[2Kcapi-gc: checking ${count === null ? 'files' : `${count} file(s)`}… ${seconds}s`);
    shown = true;
  };
  const delay = setTimeout(() => {
    draw();
    timer = setInterval(draw, options.intervalMs ?? 250);
    timer.unref();
  }, options.delayMs ?? 1000);
  delay.unref();
  return {
    files(n) { count = n; },
    stop() {
      clearTimeout(delay);
      if (timer) clearInterval(timer);
      if (shown) stream.write('\r\x1b[2K');
    },
  };
}

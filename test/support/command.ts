import { execFile, type ExecFileOptions } from 'node:child_process';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `file ARGS` to its end; never rejects: a failure is a non-zero code (-1 without one). */
export function runCommand(
  file: string,
  args: string[],
  options: ExecFileOptions,
): Promise<CommandResult> {
  return new Promise((resolve) =>
    execFile(file, args, { ...options, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    }),
  );
}

/**
 * The jailcheck command line. Exit codes: 0 no findings, 1 findings,
 * 2 usage or input errors (with a one-line message, never a stack trace).
 */
import { Command, CommanderError } from 'commander';
import { runCheck } from './check';
import { registerLsp } from './lsp';
import { registerReview } from './review';
import { registerLedger } from './ledger';
import { registerSimulate } from './simulate';
import { InputError } from '../input';

export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('jailcheck')
    .description('Lock-balance, reference-count and interleaving checks for FreeBSD\'s kern_jail.c')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError('(run jailcheck --help for usage)');

  program
    .command('check')
    .description('check C files and print findings')
    .argument('<files...>', 'C files to check')
    .option('-f, --format <format>', 'text, json or sarif', 'text')
    .option('--function <name>', 'report only findings in this function')
    .option('--no-steps', 'text format: omit the path of each finding')
    .option('--no-simulate', 'leave out the simulator\'s interleaving findings (faster)')
    .option('--parser <backend>', 'tree-sitter binding: auto, native or wasm', 'auto')
    .action(async (files: string[], opts: { format: string; function?: string; steps: boolean; parser: string; simulate: boolean }) => {
      process.exitCode = await runCheck(files, opts);
    });
  registerLsp(program);
  registerReview(program);
  registerLedger(program);
  registerSimulate(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; everything else commander rejects is a usage error.
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (err instanceof InputError) {
      process.stderr.write(`jailcheck: ${err.message}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`jailcheck: internal error: ${err instanceof Error ? err.message : String(err)} (this is a bug in jailcheck; please report it)\n`);
    return EXIT_USAGE;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

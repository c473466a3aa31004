/**
 * The benchmark's sections, in the order they run. A new section is a
 * module that returns a BenchSection (see harness/context.ts) and one line
 * here; its figures land in the same table and the same JSON.
 *
 * The example's sections run first: they are quick, they warm up every code
 * path before the long runs on the generated file, and when the time budget
 * runs out it is the generated file's slowest sections that are skipped.
 */
import * as path from 'path';
import type { BenchInput, BenchSection } from '../harness/context';
import { clangdSection } from './clangd';
import { incrementalSection } from './incremental';
import { lspSection } from './lsp';
import { pipelineSection } from './pipeline';
import { processSection } from './process';
import { simulatorSection } from './simulator';
import { targetsSection } from './targets';
import { projectRoot } from '../paths';

/**
 * `main` is the kern_jail.c-sized input the goals are judged on: the
 * generated file, or the file named with --file.
 */
export function allSections(example: BenchInput, main: BenchInput): BenchSection[] {
  const server = path.join(projectRoot(), 'dist', 'server.js');
  const cli = path.join(projectRoot(), 'dist', 'cli.js');
  return [
    pipelineSection(example),
    incrementalSection(example),
    lspSection(example, server),
    simulatorSection(example),
    pipelineSection(main),
    processSection(main, cli),
    incrementalSection(main),
    lspSection(main, server),
    clangdSection(main),
    targetsSection(main),
  ];
}

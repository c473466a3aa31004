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
import { incrementalSection } from './incremental';
import { lspSection } from './lsp';
import { pipelineSection } from './pipeline';
import { projectRoot } from '../paths';

export function allSections(example: BenchInput, generated: BenchInput): BenchSection[] {
  const server = path.join(projectRoot(), 'dist', 'server.js');
  return [
    pipelineSection(example),
    incrementalSection(example),
    lspSection(example, server),
    pipelineSection(generated),
    incrementalSection(generated),
    lspSection(generated, server),
  ];
}

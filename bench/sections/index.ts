/**
 * The benchmark's sections, in the order they run. A new section is a
 * module that returns a BenchSection (see harness/context.ts) and one line
 * here; its figures land in the same table and the same JSON.
 *
 * The example runs first: its quick runs warm up every code path before the
 * long runs on the generated file.
 */
import * as path from 'path';
import type { BenchInput, BenchSection } from '../harness/context';
import { incrementalSection } from './incremental';
import { lspSection } from './lsp';
import { pipelineSection } from './pipeline';
import { projectRoot } from '../paths';

export function allSections(example: BenchInput, generated: BenchInput): BenchSection[] {
  return [
    pipelineSection(example),
    pipelineSection(generated),
    incrementalSection(example),
    incrementalSection(generated),
    lspSection([example, generated], path.join(projectRoot(), 'dist', 'server.js')),
  ];
}

/** Patch review: what a patch fixes and what it introduces. See docs/review.md. */
export { reviewPatch, reviewPatchAsync, reviewTexts, patchAnchor } from './reviewPatch';
export type { ReviewOptions, ReviewResult, ReviewScope, PatchAnchor } from './reviewPatch';
export type { AppliedPatch, HunkPlacement, PatchedLineOrigin, BaseLineFate } from './apply';
export { PatchDoesNotApply, PatchInputError } from './errors';
export { baseFromGit } from './git';
export type { GitBase } from './git';

/** purgeCache's input: declared once in the contracts layer, since the purge activity checks it again. */
export {
  purgeCacheInputSchema,
  validatePurgeInput,
  type PurgeCacheInput,
  type PurgeCacheResult,
} from '../../../contracts/maintenance';

/** Counts what dynalite's storage (abstract-level) opens and closes (iterators), in every database of this process. */
import { dynaliteStorageLevel } from '../../local/dynamodb';

type Level = { attachResource(resource: unknown): void; detachResource(resource: unknown): void };

/** Starts counting; the returned function tells how many resources are open now (since the count began). */
export function countStorageResources(): () => number {
  let open = 0;
  const prototype = dynaliteStorageLevel().AbstractLevel.prototype as Level;
  const { attachResource, detachResource } = prototype;
  prototype.attachResource = function (this: Level, resource: unknown) {
    open++;
    return attachResource.call(this, resource);
  };
  prototype.detachResource = function (this: Level, resource: unknown) {
    open--;
    return detachResource.call(this, resource);
  };
  return () => open;
}

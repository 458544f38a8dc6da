import { HvisorError } from '../util/hvisor-error.js';
/** A guest image that cannot be loaded: names the image and what is wrong with it. */
export class ImageError extends HvisorError {
  constructor(readonly image: string, readonly problem: string) {
    super(`${image}: ${problem}`);
  }
}

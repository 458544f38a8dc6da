/** A guest image that cannot be loaded: names the image and what is wrong with it. */
export class ImageError extends Error {
  constructor(readonly image: string, readonly problem: string) {
    super(`${image}: ${problem}`);
    this.name = 'ImageError';
  }
}

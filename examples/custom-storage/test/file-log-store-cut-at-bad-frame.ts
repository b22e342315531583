// A planted bug, for the kit's checks to catch: a frame that fails its checksum is taken for a
// torn tail and cut off with every frame after it (the corruption check sees entries lost silently).
import { FileLogStore } from '../src/index.js';

class CutAtBadFrameLogStore extends FileLogStore {
  protected override damagedFrame(): void {
    // Swallowed: open keeps what came before the frame and truncates the file there.
  }
}

export const createLogStore = (directory: string): FileLogStore => new CutAtBadFrameLogStore(directory);

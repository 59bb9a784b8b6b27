/**
 * What a person chose for an image import, as paths and files: a folder (its files carry their path
 * in `webkitRelativePath`), several files, or files and folders dropped on the page. Only names and
 * file handles: the worker reads the bytes.
 */
export interface ImageSelection {
  /** The folder's name, or how many files were chosen: the dataset's name. */
  name: string;
  files: { path: string; file: File }[];
}

function nameFor(files: { path: string }[]): string {
  const roots = new Set(files.map((f) => (f.path.includes('/') ? f.path.slice(0, f.path.indexOf('/')) : '')));
  const [root] = roots;
  return roots.size === 1 && root ? root : `${files.length} file${files.length === 1 ? '' : 's'}`;
}

/** Files from an `<input type=file>` (a folder picker or a multiple-file picker). */
export function fromFileList(list: FileList | readonly File[]): ImageSelection {
  const files = Array.from(list, (file) => ({ path: file.webkitRelativePath || file.name, file }));
  return { name: nameFor(files), files };
}

function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  // A directory reader hands entries out in pages until it returns an empty one.
  return new Promise((resolve, reject) => {
    const out: FileSystemEntry[] = [];
    const next = () =>
      reader.readEntries((page) => {
        if (page.length === 0) resolve(out);
        else {
          out.push(...page);
          next();
        }
      }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, into: { path: string; file: File }[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    into.push({ path: entry.fullPath.replace(/^\//, ''), file });
  } else if (entry.isDirectory) {
    for (const child of await readAll((entry as FileSystemDirectoryEntry).createReader())) await walk(child, into);
  }
}

/** Files and folders dropped on the page, folders walked to the bottom. */
export async function fromDataTransfer(data: DataTransfer): Promise<ImageSelection> {
  const entries = Array.from(data.items, (item) => (item.kind === 'file' ? item.webkitGetAsEntry() : null)).filter((e): e is FileSystemEntry => e !== null);
  if (entries.length === 0) return fromFileList(data.files);
  const files: { path: string; file: File }[] = [];
  for (const e of entries) await walk(e, files);
  return { name: nameFor(files), files };
}

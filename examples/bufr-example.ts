/**
 * Read a radar BUFR volume and print its sweeps. The part between `#region readme` markers is
 * the README's snippet, word for word (a test checks it).
 *
 *   npx tsx examples/bufr-example.ts RMA11_0315_01_DBZH_20251020T152828Z.BUFR
 *   npx tsx examples/bufr-example.ts          # a synthetic volume written to a temp folder
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRadarVolume, makeSyntheticVolume, radarVolumeFileName } from 'radarlib/bufr';
// #region readme
import { readRadarVolume, bufrToDict } from 'radarlib/bufr';
// #endregion readme

async function syntheticFile(): Promise<string> {
  const volume = makeSyntheticVolume({ nrays: 90, ngates: 120, elevations: [0.5, 1.3] });
  const path = join(await mkdtemp(join(tmpdir(), 'radarlib-example-')), radarVolumeFileName(volume));
  await writeFile(path, encodeRadarVolume(volume));
  return path;
}
const file = process.argv[2] ?? (await syntheticFile());

// #region readme

const volume = await readRadarVolume(file); // e.g. 'RMA11_0315_01_DBZH_20251020T152828Z.BUFR'
console.log(volume.radar, volume.field, volume.time.toISOString());
for (const s of volume.sweeps) console.log(s.elevation, s.nrays, s.ngates, s.values.length); // Float64Array, ray-major
const dict = await bufrToDict(file); // the Python original's bufr_to_dict shape
console.log(Object.keys(dict));
// #endregion readme

/**
 * Golden tests: every fact in ../shared/fixtures/bufr/reference.json (produced by the OPERA
 * reference decoder behind the Python radarlib) for each of the six real RMA volumes.
 * Skips, saying why, when ../shared is absent.
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { utcParts } from '../../src/bufr/data-writer.js';
import { decodeBufr } from '../../src/bufr/decoder.js';
import { formatDescriptor } from '../../src/bufr/descriptors.js';
import { bufrToDictSync } from '../../src/bufr/dict.js';
import { readRadarVolume, readRadarVolumeSync, readRawVolume } from '../../src/bufr/radar-volume.js';
import { FILL, NO_DATA } from '../../src/radar/model.js';
import { exactSum, FIXTURES, fixturesDir, referencePath, sharedMissing } from './helpers.js';

interface DateParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}
interface RefStats {
  n_values: number;
  n_missing: number;
  n_nan: number;
  n_pos_dblmax: number;
  n_valid: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  mean_exact_sum: number | null;
  sum_exact: number | null;
  radarlib_unmasked_non_nan_count: number;
  radarlib_unmasked_non_nan_max: number | null;
}
interface RefSweep {
  index: number;
  elevation: number;
  nrays: number;
  ngates: number;
  range_size_m: number;
  range_offset_m: number;
  start: DateParts;
  end: DateParts;
  product_type: number;
  azimuth: number;
  n_parameters: number;
  quantity_product_type: number;
  compression_method: number;
  n_chunks: number;
  chunk_lengths: number[];
  compressed_len: number;
  compressed_sha256: string;
  n_missing_payload_bytes: number;
  decompressed_len: number;
  data_sha256: string;
  stats: RefStats;
  rays_all_pos_dblmax: number[];
  first_valid: [number, number, number][];
}
interface RefFile {
  file_size: number;
  file_sha256: string;
  bufr: {
    edition: number;
    total_length: number;
    master_table: number;
    originating_centre: number;
    originating_subcentre: number;
    update_sequence_number: number;
    section2_present: boolean;
    data_category: number;
    international_data_subcategory: number;
    local_data_subcategory: number;
    master_table_version: number;
    local_table_version: number;
    section1_datetime: DateParts;
    section_lengths: Record<string, number>;
    number_of_subsets: number;
    section3_flags: number;
    observed: boolean;
    compressed: boolean;
    unexpanded_descriptors: string[];
    section4_data_bits_used: number;
    section4_trailing_pad_bits: number;
  };
  station: { type_of_station_identifier_0_01_192: string; station_identifier_0_01_193: string };
  volume: {
    wmo_block: number;
    wmo_station: number;
    type_of_station: number;
    year: number;
    month: number;
    day: number;
    hour: number;
    minute: number;
    lat: number;
    lon: number;
    height: number;
  };
  nsweeps: number;
  radarlib_int_buffer: { length: number; sha256_int32le: string; parse_end_index: number };
  sweeps: RefSweep[];
  radarlib_bufr_to_dict: {
    returns_none: boolean;
    data_shape: [number, number] | null;
    dec_bufr_file_vol_shape: [number, number];
  };
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const bytesOf = (a: Float64Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const parts = (t: Date): DateParts => utcParts(t);

function stats(values: Float64Array, nrays: number, ngates: number) {
  let nMissing = 0;
  let nNan = 0;
  let nPos = 0;
  let min = Infinity;
  let max = -Infinity;
  const valid: number[] = [];
  const firstValid: [number, number, number][] = [];
  let unmaskedCount = 0;
  let unmaskedMax = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isNaN(v)) nNan++;
    else if (v === NO_DATA) nMissing++;
    else {
      unmaskedCount++;
      if (v > unmaskedMax) unmaskedMax = v;
      if (v === FILL) nPos++;
      else {
        valid.push(v);
        if (v < min) min = v;
        if (v > max) max = v;
        if (firstValid.length < 5) firstValid.push([Math.floor(i / ngates), i % ngates, v]);
      }
    }
  }
  const rays: number[] = [];
  for (let r = 0; r < nrays; r++) {
    if (values.subarray(r * ngates, (r + 1) * ngates).every((v) => v === FILL)) rays.push(r);
  }
  const sum = valid.length === 0 ? null : exactSum(valid);
  return {
    n_values: values.length,
    n_missing: nMissing,
    n_nan: nNan,
    n_pos_dblmax: nPos,
    n_valid: valid.length,
    min: valid.length === 0 ? null : min,
    max: valid.length === 0 ? null : max,
    sum_exact: sum,
    mean_exact_sum: sum === null ? null : sum / valid.length,
    radarlib_unmasked_non_nan_count: unmaskedCount,
    radarlib_unmasked_non_nan_max: unmaskedCount === 0 ? null : unmaskedMax,
    rays,
    firstValid,
  };
}

/** Rebuilds the Python radarlib's int buffer (decbufr.c layout) to compare its SHA-256. */
function intBuffer(raw: ReturnType<typeof readRawVolume>['raw']): Int32Array {
  const out: number[] = [raw.sweeps.length];
  for (const s of raw.sweeps) {
    const t = (d: Date): number[] => Object.values(parts(d));
    out.push(
      ...t(s.startTime),
      ...t(s.endTime),
      s.productType,
      Math.trunc(s.elevation),
      s.ngates,
      s.gateSize,
    );
    out.push(s.firstGateOffset, s.nrays, Math.trunc(s.firstAzimuth), s.parameters.length);
    for (const p of s.parameters) {
      out.push(p.momentCode, p.compressionMethod, p.chunkLengths.length);
      let o = 0;
      for (const len of p.chunkLengths) {
        out.push(len);
        for (let k = 0; k < len; k++) {
          const b = p.payload[o + k] as number;
          out.push(b === 255 ? 99999 : b);
        }
        o += len;
      }
    }
  }
  return Int32Array.from(out);
}

const reference: Record<string, RefFile> =
  sharedMissing === null ? (JSON.parse(readFileSync(referencePath, 'utf8')) as Record<string, RefFile>) : {};

void describe('real RMA volumes match reference.json', { skip: sharedMissing ?? false }, () => {
  void test('reference.json lists exactly the fixtures this suite knows', () => {
    assert.deepEqual(Object.keys(reference).sort(), FIXTURES.map((f) => f.name).sort());
  });

  for (const { name, feature } of FIXTURES) {
    void describe(`${name} (${feature})`, () => {
      const file = path.join(fixturesDir, name);
      const ref = reference[name] as RefFile;

      void test('file and header facts', () => {
        const bytes = readFileSync(file);
        assert.equal(bytes.length, ref.file_size);
        assert.equal(sha256(bytes), ref.file_sha256);
        const m = decodeBufr(bytes, { file: name });
        const b = ref.bufr;
        const s1 = m.section1;
        assert.deepEqual(
          {
            edition: m.edition,
            total_length: m.totalLength,
            master_table: s1.masterTable,
            originating_centre: s1.centre,
            originating_subcentre: s1.subCentre,
            update_sequence_number: s1.updateSequence,
            section2_present: s1.hasSection2,
            data_category: s1.dataCategory,
            international_data_subcategory: s1.internationalSubCategory,
            local_data_subcategory: s1.localSubCategory,
            master_table_version: s1.masterTableVersion,
            local_table_version: s1.localTableVersion,
            section1_datetime: {
              year: s1.year,
              month: s1.month,
              day: s1.day,
              hour: s1.hour,
              minute: s1.minute,
              second: s1.second,
            },
            section_lengths: m.sectionLengths,
            number_of_subsets: m.section3.numberOfSubsets,
            section3_flags: m.section3.flags,
            observed: m.section3.observed,
            compressed: m.section3.compressed,
            unexpanded_descriptors: m.section3.descriptors.map(formatDescriptor),
            section4_data_bits_used: m.dataBitsUsed,
            section4_trailing_pad_bits: m.dataBitsUnused,
          },
          b,
        );
      });

      void test('station, volume position and time, sweep metadata, payloads (sync)', () => {
        const bytes = readFileSync(file);
        const { raw } = readRawVolume(bytes, name);
        const v = readRadarVolumeSync(file);
        assert.deepEqual(
          { type_of_station_identifier_0_01_192: v.stationIdType, station_identifier_0_01_193: v.stationId },
          ref.station,
        );
        assert.equal(v.radar, 'RMA11');
        assert.deepEqual(
          {
            wmo_block: v.wmoBlock,
            wmo_station: v.wmoStation,
            type_of_station: v.stationType,
            year: raw.year,
            month: raw.month,
            day: raw.day,
            hour: raw.hour,
            minute: raw.minute,
            lat: v.latitude,
            lon: v.longitude,
            height: v.height,
          },
          ref.volume,
        );
        assert.equal(v.sweeps.length, ref.nsweeps);
        // The file name's time may differ from section 1 by seconds; section 1 wins.
        assert.deepEqual(parts(v.time), ref.bufr.section1_datetime);
        assert.equal(v.field, name.split('_')[3]);
        assert.equal(v.strategy, '0315');
        assert.equal(v.fileName, name);

        const ints = intBuffer(raw);
        assert.equal(ints.length, ref.radarlib_int_buffer.length);
        assert.equal(sha256(new Uint8Array(ints.buffer)), ref.radarlib_int_buffer.sha256_int32le);

        ref.sweeps.forEach((rs, i) => {
          const s = v.sweeps[i];
          const rawSweep = raw.sweeps[i];
          assert.ok(s !== undefined && rawSweep !== undefined, `sweep ${i} present`);
          const p = rawSweep.parameters[0];
          assert.ok(p !== undefined);
          let missingBytes = 0;
          for (const byte of p.payload) if (byte === 255) missingBytes++;
          assert.deepEqual(
            {
              index: s.index,
              elevation: s.elevation,
              nrays: s.nrays,
              ngates: s.ngates,
              range_size_m: s.gateSize,
              range_offset_m: s.firstGateOffset,
              start: parts(s.startTime),
              end: parts(s.endTime),
              product_type: s.productType,
              azimuth: s.firstAzimuth,
              n_parameters: 1 + s.additionalMoments.length,
              quantity_product_type: s.momentCode,
              compression_method: s.compressionMethod,
              n_chunks: p.chunkLengths.length,
              chunk_lengths: p.chunkLengths,
              compressed_len: p.payload.length,
              compressed_sha256: sha256(p.payload),
              n_missing_payload_bytes: missingBytes,
              decompressed_len: s.values.byteLength,
              data_sha256: sha256(bytesOf(s.values)),
            },
            {
              index: rs.index,
              elevation: rs.elevation,
              nrays: rs.nrays,
              ngates: rs.ngates,
              range_size_m: rs.range_size_m,
              range_offset_m: rs.range_offset_m,
              start: rs.start,
              end: rs.end,
              product_type: rs.product_type,
              azimuth: rs.azimuth,
              n_parameters: rs.n_parameters,
              quantity_product_type: rs.quantity_product_type,
              compression_method: rs.compression_method,
              n_chunks: rs.n_chunks,
              chunk_lengths: rs.chunk_lengths,
              compressed_len: rs.compressed_len,
              compressed_sha256: rs.compressed_sha256,
              n_missing_payload_bytes: rs.n_missing_payload_bytes,
              decompressed_len: rs.decompressed_len,
              data_sha256: rs.data_sha256,
            },
            `sweep ${i}`,
          );
        });
      });

      void test('statistics, fill rays and first valid values of every sweep', () => {
        const v = readRadarVolumeSync(file);
        ref.sweeps.forEach((rs, i) => {
          const s = v.sweeps[i];
          assert.ok(s !== undefined);
          const st = stats(s.values, s.nrays, s.ngates);
          const r = rs.stats;
          assert.deepEqual(
            {
              n_values: st.n_values,
              n_missing: st.n_missing,
              n_nan: st.n_nan,
              n_pos_dblmax: st.n_pos_dblmax,
              n_valid: st.n_valid,
              min: st.min,
              max: st.max,
              sum_exact: st.sum_exact,
              mean_exact_sum: st.mean_exact_sum,
              radarlib_unmasked_non_nan_count: st.radarlib_unmasked_non_nan_count,
              radarlib_unmasked_non_nan_max: st.radarlib_unmasked_non_nan_max,
            },
            {
              n_values: r.n_values,
              n_missing: r.n_missing,
              n_nan: r.n_nan,
              n_pos_dblmax: r.n_pos_dblmax,
              n_valid: r.n_valid,
              min: r.min,
              max: r.max,
              sum_exact: r.sum_exact,
              mean_exact_sum: r.mean_exact_sum,
              radarlib_unmasked_non_nan_count: r.radarlib_unmasked_non_nan_count,
              radarlib_unmasked_non_nan_max: r.radarlib_unmasked_non_nan_max,
            },
            `sweep ${i} stats`,
          );
          // numpy's mean uses pairwise summation: equal to the exact mean within rounding.
          if (r.mean === null) assert.equal(st.mean_exact_sum, null);
          else
            assert.ok(
              Math.abs((st.mean_exact_sum as number) - r.mean) <= 1e-12 * Math.max(1, Math.abs(r.mean)),
            );
          assert.deepEqual(st.rays, rs.rays_all_pos_dblmax, `sweep ${i} fill rays`);
          assert.deepEqual(st.firstValid, rs.first_valid, `sweep ${i} first valid`);
        });
      });

      void test('async read equals the sync read', async () => {
        const a = await readRadarVolume(file);
        const b = readRadarVolumeSync(file);
        assert.deepStrictEqual(a, b);
      });

      void test('bufrToDict shape (accepted even where the original returned None)', () => {
        const d = bufrToDictSync(file);
        assert.deepEqual(d.data.shape, ref.radarlib_bufr_to_dict.dec_bufr_file_vol_shape);
        if (!ref.radarlib_bufr_to_dict.returns_none) {
          assert.deepEqual(d.data.shape, ref.radarlib_bufr_to_dict.data_shape);
        }
        assert.equal(d.info.nsweeps, ref.nsweeps);
        assert.deepEqual(
          d.info.sweeps.gate_offset,
          ref.sweeps.map((s) => s.range_offset_m),
        );
      });
    });
  }
});

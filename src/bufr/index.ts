/**
 * radarlib/bufr: a pure-TypeScript BUFR decoder (editions 3 and 4) and the radar volume reader
 * and writer for RMA / SiNaRaMe files. See docs/BUFR.md.
 */

export { copyByteRun, decodeBufr } from './decoder.js';
export type {
  BufrMessage,
  BytesItem,
  DataItem,
  DecodeBufrOptions,
  OperatorItem,
  ValueItem,
} from './decoder.js';
export type { Section1, Section3 } from './sections.js';
export { decodeBufrFile, iterateBufrFile, splitBufrMessages } from './file.js';
export { columnValue } from './columns.js';
export type { BufrColumn } from './columns.js';
export type { BufrFileEntry, BufrMessageSlice } from './file.js';
export { BitReader } from './bit-reader.js';
export { BitWriter } from './bit-writer.js';
export { descriptorKind, formatDescriptor, parseDescriptor } from './descriptors.js';
export type { DescriptorKind } from './descriptors.js';
export {
  buildTables,
  createTableProvider,
  defaultTableProvider,
  eccodesLocalTables,
  eccodesTablesSource,
  loadBufrTables,
  loadBufrTablesSync,
  masterTables,
  mergeTables,
  parseTableBCsv,
  parseTableDCsv,
  TableParseError,
  wmoTables,
  wmoVersions,
} from './tables/index.js';
export type {
  BufrTableProvider,
  BufrTables,
  ElementDef,
  LocalTablesEntry,
  TableBRow,
  TableDRow,
  TableFiles,
  TableKey,
  TableProviderOptions,
} from './tables/index.js';
export { classifyValues, noDataToNaN, readRadarVolume, readRadarVolumeSync } from './radar-volume.js';
export type { ReadRadarVolumeOptions } from './radar-volume.js';
export { encodeRadarVolume } from './encoder.js';
export type { EncodeRadarVolumeOptions } from './encoder.js';
export { makeSyntheticVolume } from './synthetic.js';
export { radarVolumeFileName } from '../radar/filename.js';
export type { SyntheticVolumeOptions } from './synthetic.js';
export { bufrToDict, bufrToDictSync, volumeToDict } from './dict.js';
export type { BufrDict, BufrDictInfo, BufrDictSweeps } from './dict.js';
export {
  FILL,
  MOMENTS,
  momentByCode,
  momentByName,
  NO_DATA,
  PRODUCT_TYPE_L2_VOLUME,
  ValueClass,
} from '../radar/model.js';
export type { MomentInfo, MomentName, RadarMoment, RadarSweep, RadarVolume } from '../radar/model.js';
export { BufrFormatError, BufrUnsupportedError } from '../errors.js';

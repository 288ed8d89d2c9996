/** Real servers for development and tests, started on free loopback ports. */
export { startFerretDb, type FerretDbOptions, type FerretDbServer } from './ferretDb';
export {
  startTemporalDevServer,
  type TemporalDevServerOptions,
  type TemporalDevServer,
} from './temporalDevServer';
export { findFreePort } from '../ports';

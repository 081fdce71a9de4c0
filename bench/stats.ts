export * from '../src/core/stats.js';

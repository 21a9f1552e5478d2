// The SDK as the tests load it: its sources, as the built package exports them.
export * from '../../../client/src/index';

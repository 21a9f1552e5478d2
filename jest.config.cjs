// Nest 12 and a few of its dependencies ship ESM only: swc transforms them to CommonJS for Jest.
const esmOnly = [
  '@nestjs',
  'file-type',
  'strtok3',
  'token-types',
  'peek-readable',
  'uint8array-extras',
  '@tokenizer',
  'load-esm',
  // @fastify/static (the demo page) requires content-disposition 3, ESM only, from its own
  // node_modules: both path segments must be let through.
  '@fastify/static',
  'content-disposition',
  // dev dependencies for the interoperability tests
  'openid-client',
  'oauth4webapi',
  'jose',
];

/** @type {import('jest').Config} */
module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.spec.ts', '<rootDir>/src/**/*.spec.ts'],
  transform: {
    '^.+\\.(t|j|mj)s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  transformIgnorePatterns: [`node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  // The client SDK's relative imports end in `.js`, as Node's ESM resolution and `nodenext`
  // declarations need; its sources are `.ts`.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: 30000,
};

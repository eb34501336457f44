// The process cluster lives with the verifier; tests import it from here.
export * from '../../src/verify/proc-cluster.js';

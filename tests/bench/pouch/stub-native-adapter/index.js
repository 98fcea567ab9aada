'use strict';
// pouchdb-server only require()s its on-disk adapters when started without
// --in-memory / --sqlite. This benchmark always uses --in-memory.
throw new Error('on-disk PouchDB adapters are not installed in tests/bench/pouch (use --in-memory)');

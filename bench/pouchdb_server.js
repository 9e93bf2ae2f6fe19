// A tiny PouchDB server (express-pouchdb on the in-memory adapter) for bench/sync_push.py.
//
// Usage: node bench/pouchdb_server.js [PORT]   (PORT 0 or omitted: any free port)
// The modules come from bench/.work/pouchdb/node_modules (installed by the benchmark); run it
// with NODE_PATH pointing there, or with that folder as the working directory.
// Prints one JSON line {"port": N} on stdout once it listens on 127.0.0.1.
'use strict';

const express = require('express');
const PouchDB = require('pouchdb-core')
  .plugin(require('pouchdb-adapter-memory'))
  .plugin(require('pouchdb-mapreduce'))
  .plugin(require('pouchdb-replication'));

const MemoryPouchDB = PouchDB.defaults({ adapter: 'memory' });
const app = express();
app.use('/', require('express-pouchdb')(MemoryPouchDB, {
  mode: 'minimumForPouchDB', // the routes PouchDB clients need (incl. _bulk_docs), no Fauxton
  inMemoryConfig: true,      // no config.json on disk
  logPath: process.env.POUCHDB_LOG || 'log.txt',
}));

const port = Number(process.argv[2] || 0);
const server = app.listen(port, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
server.keepAliveTimeout = 60000;

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}

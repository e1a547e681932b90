// dynalite in its own process (in memory, on a free loopback port), so the benchmark process
// measures the handler, not the database's work or garbage. Prints the endpoint; stops on SIGTERM
// or when its parent closes stdin.
import dynalite from 'dynalite';

const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${server.address().port}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();

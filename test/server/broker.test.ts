import { createBroker } from '../../server/index';
import { runBrokerSuite } from './broker-suite';

// The handler called directly, as Workers, Deno, Bun and edge runtimes call it.
runBrokerSuite(createBroker);

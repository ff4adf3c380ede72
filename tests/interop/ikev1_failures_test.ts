/** Root: IKEv1 failures: wrong PSK, proposal mismatch (scenarios in lib/scenarios/). */

import { FAILURES } from "./lib/scenarios/failures.ts";
import { ikev1Suite } from "./lib/suite.ts";

ikev1Suite("IKEv1 failures: wrong PSK, proposal mismatch", FAILURES);

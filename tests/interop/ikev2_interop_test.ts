/** Root: IKEv2 PSK interop, strongSwan 5.9.8 initiating (scenarios in lib/scenarios/ikev2.ts). */

import { startIkev2Lab } from "./lib/ikev2_lab.ts";
import { IKEV2 } from "./lib/scenarios/ikev2.ts";
import { labSuite } from "./lib/suite.ts";

labSuite("IKEv2 PSK", IKEV2, startIkev2Lab);

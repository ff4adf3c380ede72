/** Root: traffic through IKEv1-negotiated tunnels, incl. rekeys under load (lib/scenarios/). */

import { TRAFFIC } from "./lib/scenarios/traffic.ts";
import { ikev1Suite } from "./lib/suite.ts";

ikev1Suite("Traffic across IKEv1 tunnels", TRAFFIC);

/** Root: forged datagrams and floods against a live IKEv1 tunnel (lib/scenarios/hostile.ts). */

import { HOSTILE } from "./lib/scenarios/hostile.ts";
import { ikev1Suite } from "./lib/suite.ts";

ikev1Suite("IKEv1 under forged and flooded input", HOSTILE);

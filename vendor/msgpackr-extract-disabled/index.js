throw new Error('msgpackr-extract is replaced by a stand-in in raftkv (msgpackr falls back to pure JS)');

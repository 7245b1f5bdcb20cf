"""A sink that keeps what the pipeline writes, for in-process pipeline tests."""


class ListSink(object):
    def __init__(self):
        self.events = []

    def write(self, envelopes):
        self.events.extend(envelopes)

    def flush(self):
        pass

    def close(self):
        pass

    def health(self):
        return {"events_out": len(self.events), "bytes_out": 0}

import fc from 'fast-check';

import { parseKernelMessage, ProtocolError } from '../comm';
import { isReport } from '../protocol';
import { makeReport } from './fixtures';

describe('the message validator, on arbitrary input', () => {
  it('never throws anything but a ProtocolError, and whatever it accepts is well formed', () => {
    fc.assert(
      fc.property(
        fc.anything({ withObjectString: true, withNullPrototype: true }),
        data => {
          let message;
          try {
            message = parseKernelMessage(data);
          } catch (error) {
            expect(error).toBeInstanceOf(ProtocolError);
            return;
          }
          if (message?.type === 'report') {
            expect(isReport(message.report)).toBe(true);
          }
          if (message?.type === 'hello') {
            expect(message.history.every(isReport)).toBe(true);
          }
        }
      ),
      { numRuns: 2000 }
    );
  });

  it('rejects a valid report with any one required field replaced by junk of another type', () => {
    const required = [
      'schema',
      'run',
      'duration_s',
      'overhead_s',
      'rss',
      'verdict',
      'errors'
    ] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...required),
        // Junk no required field accepts: strings, booleans, null, non-empty arrays of numbers.
        fc.oneof(
          fc.string(),
          fc.boolean(),
          fc.constant(null),
          fc.array(fc.integer(), { minLength: 1 })
        ),
        (field, junk) => {
          const report: any = { ...makeReport(), [field]: junk };
          let parsed;
          try {
            parsed = parseKernelMessage({ type: 'report', report });
          } catch (error) {
            // A bigger schema number is a newer memdiag: the user is told to update, not shown junk.
            expect(error).toBeInstanceOf(ProtocolError);
            expect(field).toBe('schema');
            return;
          }
          expect(parsed).toBeNull();
        }
      ),
      { numRuns: 500 }
    );
  });

  it('keeps the valid reports of a hello whose history is partly junk', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(makeReport()), fc.anything()), {
          maxLength: 30
        }),
        history => {
          const message = parseKernelMessage({
            type: 'hello',
            protocol: 1,
            version: '0',
            config: {},
            history
          });
          expect(message?.type).toBe('hello');
          const valid = history.filter(isReport).length;
          expect(message?.type === 'hello' && message.history.length).toBe(
            valid
          );
        }
      ),
      { numRuns: 300 }
    );
  });
});

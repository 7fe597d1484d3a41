// A path in a request (a data folder, a model folder, a zip, an output): any non-empty string, with the
// message a user sees when it is missing. Whether it exists is checked where it is used. Zod only.
import { z } from 'zod';

export const PathString = z.string().min(1, 'a path is required');

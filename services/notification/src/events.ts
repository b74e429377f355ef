/** The notification service's stream. It publishes nothing yet: mails are its own business
 * (and a welcome mail's password must never travel in an event). */
export const STREAM = 'NOTIFICATION';
export const STREAM_SUBJECTS = ['notification.>'];
